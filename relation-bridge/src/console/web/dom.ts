/** A small element builder and the accessible building blocks every page uses. */

type Child = Node | string | null | undefined | false;
type Attributes = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false || child === '') continue;
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

let nextId = 0;

/** A unique id for label/for and aria-describedby pairs. */
export function uid(prefix: string): string {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

export interface FieldOptions {
  label: string;
  name: string;
  type?: string;
  value?: string;
  required?: boolean;
  hint?: string;
  autocomplete?: string;
  inputmode?: string;
}

/** A labelled input (with its hint linked by aria-describedby). */
export function field(options: FieldOptions): { wrapper: HTMLElement; input: HTMLInputElement } {
  const id = uid(options.name);
  const hintId = options.hint === undefined ? null : `${id}-hint`;
  const input = h('input', {
    id,
    name: options.name,
    type: options.type ?? 'text',
    value: options.value,
    required: options.required,
    autocomplete: options.autocomplete,
    inputmode: options.inputmode,
    'aria-describedby': hintId,
  });
  const wrapper = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, options.label),
    options.hint === undefined ? null : h('p', { class: 'hint', id: hintId }, options.hint),
    input,
  );
  return { wrapper, input };
}

/** A labelled select. */
export function selectField(
  label: string,
  name: string,
  options: Array<{ value: string; label: string }>,
  selected?: string,
): { wrapper: HTMLElement; select: HTMLSelectElement } {
  const id = uid(name);
  const select = h(
    'select',
    { id, name },
    ...options.map((option) => h('option', { value: option.value, selected: option.value === selected }, option.label)),
  );
  return { wrapper: h('div', { class: 'field' }, h('label', { for: id }, label), select), select };
}

/** A checkbox or radio with its label beside it. */
export function choice(
  type: 'checkbox' | 'radio',
  name: string,
  value: string,
  label: string,
  checked = false,
): { wrapper: HTMLElement; input: HTMLInputElement } {
  const id = uid(name);
  const input = h('input', { id, type, name, value, checked });
  return { wrapper: h('div', { class: 'choice' }, input, h('label', { for: id }, label)), input };
}

export function button(
  label: string,
  onClick: (event: Event) => void,
  options: { kind?: 'primary' | 'secondary' | 'danger' | 'link'; ariaLabel?: string; type?: 'button' | 'submit' } = {},
): HTMLButtonElement {
  return h(
    'button',
    {
      type: options.type ?? 'button',
      class: `button ${options.kind ?? 'secondary'}`,
      'aria-label': options.ariaLabel,
      onclick: onClick as EventListener,
    },
    label,
  );
}

/**
 * Long words that may wrap (emails, user names, hosts, ids) wrap at their natural joints
 * (after `@`, `.`, `-`, `_`, `/`) rather than mid-word, and only when the cell is too narrow.
 */
export function breakable(text: string): HTMLElement {
  const span = h('span', { class: 'breakable' });
  for (const part of text.split(/(?<=[@._/-])/)) append(span, part, h('wbr'));
  span.lastChild?.remove();
  return span;
}

/** Puts a message where the reader is: the container takes the focus (a screen reader reads it). */
export function report(container: HTMLElement, message: HTMLElement): void {
  container.replaceChildren(message);
  message.setAttribute('tabindex', '-1');
  message.focus();
}

/** A message for everyone: `status` is announced politely, `alert` at once. */
export function notice(kind: 'status' | 'alert', text: string, ...extra: Child[]): HTMLElement {
  return h('div', { class: `notice ${kind === 'alert' ? 'error' : 'ok'}`, role: kind }, h('p', {}, text), ...extra);
}

/** A table whose rows become labelled cards on a narrow screen (each cell carries its header). */
export function table(
  caption: string,
  headers: string[],
  rows: Child[][],
  options: { hideCaption?: boolean } = {},
): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'responsive' },
      h('caption', { class: options.hideCaption === true ? 'visually-hidden' : null }, caption),
      h('thead', {}, h('tr', {}, ...headers.map((header) => h('th', { scope: 'col' }, header)))),
      h(
        'tbody',
        {},
        ...rows.map((row) =>
          h('tr', {}, ...row.map((cell, index) => h('td', { 'data-label': headers[index] ?? '' }, cell))),
        ),
      ),
    ),
  );
}

export function definitionList(rows: Array<[string, Child]>): HTMLElement {
  const list = h('dl', { class: 'facts' });
  for (const [term, value] of rows) append(list, h('dt', {}, term), h('dd', {}, value));
  return list;
}

/** A modal confirmation (native dialog: focus stays inside, Escape answers no). */
export function confirmDialog(title: string, text: string, yes: string, no: string): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = uid('dialog-title');
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId });
    const close = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    append(
      dialog,
      h('h2', { id: titleId }, title),
      h('p', {}, text),
      h(
        'div',
        { class: 'actions' },
        button(yes, () => close(true), { kind: 'danger' }),
        button(no, () => close(false)),
      ),
    );
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      close(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    (dialog.querySelector('button:last-of-type') as HTMLButtonElement).focus();
  });
}
