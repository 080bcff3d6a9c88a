import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Where the browser tests put their screenshots (test-results/ is ignored by git). */
export const SCREENSHOT_DIR = path.resolve(__dirname, '../../test-results/screenshots');

export const WIDTHS = { wide: 1280, narrow: 375 } as const;

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** Debian's chromium, launched exactly as docs/toolchain.md says; one per test file. */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'relation-bridge-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: WIDTHS.wide, height: 900 },
    locale: 'ja-JP',
    timezoneId: 'Asia/Tokyo',
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Probes evaluated in the page. They are plain JavaScript text because this test code is
 * compiled without the DOM library (the bridge is a Node program).
 */
const ACCESSIBLE_NAME = `
  const nameOf = (element) => {
    const labelledBy = element.getAttribute('aria-labelledby');
    if (labelledBy !== null) {
      return labelledBy.split(/\\s+/).map((id) => document.getElementById(id)?.textContent ?? '').join(' ').trim();
    }
    const aria = element.getAttribute('aria-label');
    if (aria !== null && aria.trim() !== '') return aria.trim();
    if (element.labels && element.labels.length > 0) {
      return [...element.labels].map((label) => label.textContent ?? '').join(' ').trim();
    }
    if (element.tagName === 'BUTTON' || element.tagName === 'A') return (element.textContent ?? '').trim();
    return '';
  };`;

const UNLABELLED_PROBE = `(() => {
  ${ACCESSIBLE_NAME}
  const visible = (element) => {
    const style = window.getComputedStyle(element);
    return style.display !== 'none' && style.visibility !== 'hidden' && element.getClientRects().length > 0;
  };
  return [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button, a[href]')]
    .filter(visible)
    .filter((element) => nameOf(element) === '')
    .map((element) => element.outerHTML.slice(0, 160));
})()`;

const FOCUSED_NAME_PROBE = `(() => {
  ${ACCESSIBLE_NAME}
  const element = document.activeElement;
  if (element === null || element === document.body) return '';
  return nameOf(element) || (element.value ?? '');
})()`;

const FOCUS_OUTLINE_PROBE = `(() => {
  const style = window.getComputedStyle(document.activeElement);
  return { style: style.outlineStyle, width: style.outlineWidth };
})()`;

const OVERFLOW_PROBE = 'document.documentElement.scrollWidth > document.documentElement.clientWidth + 1';

const PAGE_READY_PROBE = "document.querySelector('main h1') !== null && document.querySelector('.loading') === null";

/** Form controls (and links) without an accessible name, as short HTML excerpts. */
export async function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(UNLABELLED_PROBE);
}

/** True when the page is wider than the viewport (something sticks out sideways). */
export async function overflowsHorizontally(page: Page): Promise<boolean> {
  return page.evaluate<boolean>(OVERFLOW_PROBE);
}

/**
 * The checks every console page gets: at 1280 and at 375 px nothing overflows sideways and
 * every control is labelled; a screenshot of each width is kept.
 */
export async function checkPage(page: Page, name: string): Promise<void> {
  await page.waitForFunction(PAGE_READY_PROBE);
  for (const [label, width] of Object.entries(WIDTHS)) {
    await page.setViewportSize({ width, height: 900 });
    expect({ page: name, width, overflows: await overflowsHorizontally(page) }).toEqual({
      page: name,
      width,
      overflows: false,
    });
    expect({ page: name, width, unlabelled: await unlabelledControls(page) }).toEqual({
      page: name,
      width,
      unlabelled: [],
    });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: WIDTHS.wide, height: 900 });
}

/**
 * Moves the focus with Tab alone until the focused element's name matches, as a keyboard
 * user would, and checks that the focus is visible there.
 */
export async function tabTo(page: Page, name: string | RegExp, maxPresses = 60): Promise<void> {
  const matches = (text: string) => (typeof name === 'string' ? text.trim() === name : name.test(text));
  for (let press = 0; press < maxPresses; press += 1) {
    await page.keyboard.press('Tab');
    if (matches(await page.evaluate<string>(FOCUSED_NAME_PROBE))) {
      const outline = await page.evaluate<{ style: string; width: string }>(FOCUS_OUTLINE_PROBE);
      expect(outline.style).not.toBe('none');
      expect(outline.width).not.toBe('0px');
      return;
    }
  }
  throw new Error(`no focusable element named ${String(name)} within ${maxPresses} Tab presses`);
}

/** Waits until the console shows the page whose h1 is `title`. */
export async function waitForTitle(page: Page, title: string | RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
  await page.waitForFunction(PAGE_READY_PROBE);
}
