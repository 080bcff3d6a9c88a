import { createElement } from 'lwc';
import InboxActivityTimeline from 'c/inboxActivityTimeline';
import getActivities from '@salesforce/apex/ActivityTimelineController.getActivities';
import getChannelOptions from '@salesforce/apex/ActivityTimelineController.getChannelOptions';

const firstPage = require('./data/firstPage.json');
const secondPage = require('./data/secondPage.json');
const channelOptions = require('./data/channelOptions.json');

jest.mock(
  '@salesforce/apex/ActivityTimelineController.getActivities',
  () => {
    const { createApexTestWireAdapter } = require('@salesforce/sfdx-lwc-jest');
    return { default: createApexTestWireAdapter(jest.fn()) };
  },
  { virtual: true },
);
jest.mock(
  '@salesforce/apex/ActivityTimelineController.getChannelOptions',
  () => {
    const { createApexTestWireAdapter } = require('@salesforce/sfdx-lwc-jest');
    return { default: createApexTestWireAdapter(jest.fn()) };
  },
  { virtual: true },
);

const RECORD_ID = '003000000000001AAA';

function mountTimeline() {
  const element = createElement('c-inbox-activity-timeline', { is: InboxActivityTimeline });
  element.recordId = RECORD_ID;
  document.body.appendChild(element);
  return element;
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));
/** A page as Apex really sends it: a property whose value is null is left out. */
const withoutNulls = (value) => JSON.parse(JSON.stringify(value, (key, entry) => (entry === null ? undefined : entry)));
const all = (element, selector) => Array.from(element.shadowRoot.querySelectorAll(selector));
const one = (element, selector) => element.shadowRoot.querySelector(selector);

describe('c-inbox-activity-timeline', () => {
  afterEach(() => {
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    jest.clearAllMocks();
  });

  it('shows a spinner until the first page arrives', () => {
    const element = mountTimeline();
    expect(one(element, 'lightning-spinner')).not.toBeNull();
    expect(one(element, 'ul.slds-timeline')).toBeNull();
  });

  it('asks for the first page of this record in every channel', async () => {
    mountTimeline();
    await flush();
    expect(getActivities.getLastConfig()).toEqual({ recordId: RECORD_ID, channel: '', cursor: null, pageSize: 20 });
  });

  it('renders each synced event with its channel, direction, operator, time, subject and ticket link', async () => {
    const element = mountTimeline();
    getActivities.emit(firstPage);
    await flush();

    const entries = all(element, 'li.timeline-entry');
    expect(entries).toHaveLength(2);
    const [line, call] = entries;
    expect(line.querySelector('.subject').textContent).toBe('[LINE] 配送日の変更について');
    expect(line.querySelector('.channel').textContent).toBe('LINE');
    expect(line.querySelector('.direction').textContent).toBe('受信');
    expect(line.querySelector('.operator').textContent).toBe('佐藤 花子');
    expect(line.querySelector('.inbox').textContent).toBe('営業窓口');
    expect(line.querySelector('lightning-formatted-date-time').value).toBe('2026-03-02T01:15:00.000Z');
    expect(line.querySelector('lightning-icon').iconName).toBe('utility:chat');
    expect(call.querySelector('lightning-icon').iconName).toBe('utility:call');

    const ticketLink = line.querySelector('a.ticket-link');
    expect(ticketLink.href).toBe('https://example.relationapp.jp/tickets/4812');
    expect(ticketLink.target).toBe('_blank');
    expect(ticketLink.rel).toBe('noopener noreferrer');
    expect(ticketLink.textContent).toBe('c.Inbox_Timeline_Open_Ticket');
    expect(call.querySelector('a.ticket-link')).toBeNull();
  });

  it('keeps a message body collapsed until its toggle is pressed, and says so to assistive technology', async () => {
    const element = mountTimeline();
    getActivities.emit(firstPage);
    await flush();

    const [line] = all(element, 'li.timeline-entry');
    const toggle = line.querySelector('button.body-toggle');
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(toggle.textContent.trim()).toBe('c.Inbox_Timeline_Show_Body');
    expect(line.querySelector('.body')).toBeNull();

    toggle.click();
    await flush();
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    expect(toggle.textContent.trim()).toBe('c.Inbox_Timeline_Hide_Body');
    const body = line.querySelector('.body');
    expect(body.textContent.trim()).toBe('来週の配送日を金曜日に変更できますか？\n午前中を希望します。');
    expect(toggle.getAttribute('aria-controls')).toBe(body.getAttribute('id'));

    toggle.click();
    await flush();
    expect(line.querySelector('.body')).toBeNull();
  });

  it('says that no message text was kept when an event has no body', async () => {
    const element = mountTimeline();
    getActivities.emit(firstPage);
    await flush();
    const [, call] = all(element, 'li.timeline-entry');
    expect(call.querySelector('button.body-toggle')).toBeNull();
    expect(call.querySelector('.no-body').textContent).toBe('c.Inbox_Timeline_No_Body');
  });

  it('appends the next page when "load more" is pressed, and hides the button on the last page', async () => {
    getActivities.mockResolvedValue(secondPage);
    const element = mountTimeline();
    getActivities.emit(firstPage);
    await flush();

    one(element, 'lightning-button.load-more').click();
    await flush();

    expect(getActivities).toHaveBeenCalledWith({
      recordId: RECORD_ID,
      channel: '',
      cursor: '1772343600000_00U000000000001AAA',
      pageSize: 20,
    });
    const subjects = all(element, 'li.timeline-entry .subject').map((node) => node.textContent);
    expect(subjects).toEqual(['[LINE] 配送日の変更について', '[通話メモ] 見積もりの件', '[メール] 資料送付のお願い']);
    expect(one(element, 'lightning-button.load-more')).toBeNull();
  });

  it('treats a cursor or a field that Apex left out like a null one', async () => {
    getActivities.mockResolvedValue(withoutNulls(secondPage));
    const element = mountTimeline();
    getActivities.emit(withoutNulls(firstPage));
    await flush();

    const [, call] = all(element, 'li.timeline-entry');
    expect(call.querySelector('.no-body').textContent).toBe('c.Inbox_Timeline_No_Body');
    expect(call.querySelector('a.ticket-link')).toBeNull();
    one(element, 'lightning-button.load-more').click();
    await flush();
    expect(all(element, 'li.timeline-entry')).toHaveLength(3);
    expect(one(element, 'lightning-button.load-more')).toBeNull();
  });

  it('offers no "load more" when a first page without a cursor is the only page', async () => {
    const element = mountTimeline();
    getActivities.emit({ items: withoutNulls(firstPage).items });
    await flush();
    expect(all(element, 'li.timeline-entry')).toHaveLength(2);
    expect(one(element, 'lightning-button.load-more')).toBeNull();
  });

  it('links a ticket only when its URL is https', async () => {
    const [entry] = firstPage.items;
    const withUrl = (id, ticketUrl) => ({ ...entry, id, ticketUrl });
    const element = mountTimeline();
    getActivities.emit({
      items: [
        // eslint-disable-next-line no-script-url -- the hostile value the component must not link
        withUrl('00U000000000011AAA', 'javascript:alert(document.cookie)'),
        withUrl('00U000000000012AAA', 'http://example.relationapp.jp/tickets/1'),
        withUrl('00U000000000013AAA', 'data:text/html,<script>alert(1)</script>'),
        withUrl('00U000000000014AAA', 'https://example.relationapp.jp/tickets/2'),
      ],
    });
    await flush();

    const links = all(element, 'a.ticket-link').map((link) => link.getAttribute('href'));
    expect(links).toEqual(['https://example.relationapp.jp/tickets/2']);
  });

  it('keeps the loaded events and shows an alert when the next page fails', async () => {
    getActivities.mockRejectedValue({ body: { message: 'The list could not be continued.' } });
    const element = mountTimeline();
    getActivities.emit(firstPage);
    await flush();

    one(element, 'lightning-button.load-more').click();
    await flush();

    expect(all(element, 'li.timeline-entry')).toHaveLength(2);
    const alert = one(element, '.load-more-error');
    expect(alert.getAttribute('role')).toBe('alert');
    expect(alert.textContent).toBe('The list could not be continued.');
  });

  it('offers every channel plus "all channels", and asks again for the chosen channel', async () => {
    const element = mountTimeline();
    getChannelOptions.emit(channelOptions);
    getActivities.emit(firstPage);
    await flush();

    const filter = one(element, 'lightning-combobox.channel-filter');
    expect(filter.options).toEqual([
      { label: 'c.Inbox_Timeline_All_Channels', value: '' },
      { label: 'メール', value: 'email' },
      { label: 'LINE', value: 'line' },
      { label: '通話メモ', value: 'call_memo' },
    ]);

    filter.dispatchEvent(new CustomEvent('change', { detail: { value: 'email' } }));
    await flush();
    expect(getActivities.getLastConfig()).toEqual({
      recordId: RECORD_ID,
      channel: 'email',
      cursor: null,
      pageSize: 20,
    });
    expect(one(element, 'lightning-spinner')).not.toBeNull();
  });

  it('shows the empty state when nothing has been synced for the record', async () => {
    const element = mountTimeline();
    getActivities.emit({ items: [], nextCursor: null });
    await flush();
    expect(one(element, '.empty-state').textContent).toBe('c.Inbox_Timeline_Empty');
    expect(one(element, 'lightning-button.load-more')).toBeNull();
  });

  it('shows a channel-specific empty state when the chosen channel has no events', async () => {
    const element = mountTimeline();
    getActivities.emit(firstPage);
    await flush();
    one(element, 'lightning-combobox.channel-filter').dispatchEvent(
      new CustomEvent('change', { detail: { value: 'sms' } }),
    );
    getActivities.emit({ items: [], nextCursor: null });
    await flush();
    expect(one(element, '.empty-state').textContent).toBe('c.Inbox_Timeline_Empty_Channel');
  });

  it("shows Apex's error message in an alert when the first page fails", async () => {
    const element = mountTimeline();
    getActivities.error({ message: 'The helpdesk activity timeline works on Lead and Contact pages only.' });
    await flush();
    const alert = one(element, '.load-error');
    expect(alert.getAttribute('role')).toBe('alert');
    expect(alert.textContent).toBe('The helpdesk activity timeline works on Lead and Contact pages only.');
    expect(one(element, 'ul.slds-timeline')).toBeNull();
  });

  it('is accessible once loaded', async () => {
    const element = mountTimeline();
    getChannelOptions.emit(channelOptions);
    getActivities.emit(firstPage);
    await flush();
    one(element, 'button.body-toggle').click();
    await flush();
    await expect(element).toBeAccessible();
  });
});
