import { createElement } from 'lwc';
import InboxAdminConsole from 'c/inboxAdminConsole';
import getAdminView from '@salesforce/apex/InboxAdminController.getAdminView';
import savePolicy from '@salesforce/apex/InboxAdminController.savePolicy';
import { refreshApex } from '@salesforce/apex';
import { subscribe, unsubscribe, emitMessage, emitError, resetEmpApi } from 'lightning/empApi';

const adminView = require('./data/adminView.json');

jest.mock(
  '@salesforce/apex/InboxAdminController.getAdminView',
  () => {
    const { createApexTestWireAdapter } = require('@salesforce/sfdx-lwc-jest');
    return { default: createApexTestWireAdapter(jest.fn()) };
  },
  { virtual: true },
);
jest.mock('@salesforce/apex/InboxAdminController.savePolicy', () => ({ default: jest.fn() }), { virtual: true });
jest.mock('@salesforce/apex', () => ({ refreshApex: jest.fn(() => Promise.resolve()) }), { virtual: true });

const CHANNEL = '/event/inbx__Inbox_Policy_Deployment__e';
const JOB_ID = '0Af000000000001AAA';

function mountConsole() {
  const element = createElement('c-inbox-admin-console', { is: InboxAdminConsole });
  document.body.appendChild(element);
  return element;
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));
const all = (element, selector) => Array.from(element.shadowRoot.querySelectorAll(selector));
const one = (element, selector) => element.shadowRoot.querySelector(selector);
const field = (element, name) => one(element, `[data-field="${name}"]`);

/** The view as Apex really sends it: a property whose value is null is left out. */
function withoutNulls(value) {
  return JSON.parse(JSON.stringify(value, (key, entry) => (entry === null ? undefined : entry)));
}

function change(input, detail) {
  input.dispatchEvent(new CustomEvent('change', { detail }));
}

async function loadedConsole() {
  const element = mountConsole();
  getAdminView.emit(adminView);
  await flush();
  return element;
}

describe('c-inbox-admin-console', () => {
  afterEach(() => {
    while (document.body.firstChild) document.body.removeChild(document.body.firstChild);
    jest.clearAllMocks();
    jest.useRealTimers();
    resetEmpApi();
  });

  it('shows a spinner until the inboxes arrive', () => {
    const element = mountConsole();
    expect(one(element, 'lightning-spinner')).not.toBeNull();
  });

  it("lists every inbox with its policy and the bridge's health report", async () => {
    const element = await loadedConsole();
    const rows = all(element, 'tr.inbox-row');
    expect(rows.map((row) => row.dataset.inboxId)).toEqual(['12', '31', '44']);

    const [sales, support, hiring] = rows;
    expect(sales.querySelector('.inbox-name').textContent).toBe('営業窓口');
    expect(sales.querySelector('lightning-badge').label).toBe('c.Inbox_Policy_Active');
    expect(sales.querySelector('.policy-target').textContent).toBe('取引先責任者');
    expect(sales.querySelector('.policy-body').textContent).toBe('c.Inbox_Policy_Body_First_N');
    expect(sales.querySelector('.policy-owner').textContent).toBe('c.Inbox_Policy_Default_Owner');
    expect(sales.querySelector('.link-state div').textContent).toBe('有効');
    expect(sales.querySelector('.last-success lightning-formatted-date-time').value).toBe('2026-03-02T01:16:00.000Z');
    expect(sales.querySelector('.last-error-message').textContent.trim()).toBe(
      'FIELD_CUSTOM_VALIDATION_EXCEPTION: 件名は必須です',
    );
    const counts = Object.fromEntries(
      ['synced', 'pending', 'failed', 'unmatched'].map((key) => [
        key,
        sales.querySelector(`.counts .${key} dd`).textContent,
      ]),
    );
    expect(counts).toEqual({ synced: '42', pending: '3', failed: '1', unmatched: '5' });

    expect(support.querySelector('.no-policy').textContent).toBe('c.Inbox_Policy_None');
    expect(support.querySelector('.link-state div').textContent).toBe('再認証が必要');
    expect(support.querySelector('.last-success').textContent).toBe('c.Inbox_Health_Never');

    expect(hiring.querySelector('lightning-badge').label).toBe('c.Inbox_Policy_Inactive');
    expect(hiring.querySelector('.policy-body').textContent).toBe('保存しない');
    expect(hiring.querySelector('.link-state div').textContent).toBe('c.Inbox_Health_Not_Reported');
    expect(hiring.querySelectorAll('.counts div')).toHaveLength(0);
  });

  it('treats a policy or a health report that Apex left out like a null one', async () => {
    const element = mountConsole();
    getAdminView.emit(withoutNulls(adminView));
    await flush();

    const [sales, support, hiring] = all(element, 'tr.inbox-row');
    expect(sales.querySelector('lightning-badge').label).toBe('c.Inbox_Policy_Active');
    expect(support.querySelector('lightning-badge')).toBeNull();
    expect(support.querySelector('.no-policy').textContent).toBe('c.Inbox_Policy_None');
    expect(support.querySelector('.last-success').textContent).toBe('c.Inbox_Health_Never');
    expect(hiring.querySelector('.link-state div').textContent).toBe('c.Inbox_Health_Not_Reported');
    expect(hiring.querySelector('.last-success').textContent).toBe('');
    expect(hiring.querySelectorAll('.counts div')).toHaveLength(0);
  });

  it.each([
    ['false', { ...adminView, canManagePolicies: false }],
    ['left out', withoutNulls({ ...adminView, canManagePolicies: null })],
  ])('offers no editing, and says why, when the manage-policies permission is %s', async (shape, view) => {
    const element = mountConsole();
    getAdminView.emit(view);
    await flush();

    expect(all(element, 'tr.inbox-row')).toHaveLength(3);
    expect(one(element, 'lightning-button.new-policy')).toBeNull();
    expect(all(element, 'lightning-button-icon.edit')).toHaveLength(0);
    expect(all(element, 'thead th')).toHaveLength(6);
    expect(one(element, '.read-only-note').textContent).toBe('c.Inbox_Admin_Read_Only');
  });

  it('offers editing without the read-only note to a user with the permission', async () => {
    const element = await loadedConsole();
    expect(one(element, 'lightning-button.new-policy')).not.toBeNull();
    expect(all(element, 'lightning-button-icon.edit')).toHaveLength(3);
    expect(one(element, '.read-only-note')).toBeNull();
  });

  it('shows the empty state when no inbox has a policy or a report', async () => {
    const element = mountConsole();
    getAdminView.emit({ ...adminView, inboxes: [] });
    await flush();
    expect(one(element, '.empty-state').textContent).toBe('c.Inbox_Admin_Empty');
    expect(one(element, 'table')).toBeNull();
  });

  it("shows Apex's error in an alert when the inboxes cannot be loaded", async () => {
    const element = mountConsole();
    getAdminView.error({ message: "No such column 'inbx__Pending__c'" });
    await flush();
    const alert = one(element, '.load-error');
    expect(alert.getAttribute('role')).toBe('alert');
    expect(alert.textContent).toBe("No such column 'inbx__Pending__c'");
  });

  it('subscribes once to the deployment events channel that Apex names', async () => {
    const element = await loadedConsole();
    getAdminView.emit(adminView);
    await flush();
    expect(subscribe).toHaveBeenCalledTimes(1);
    expect(subscribe.mock.calls[0][0]).toBe(CHANNEL);
    document.body.removeChild(element);
    await flush();
    expect(unsubscribe).toHaveBeenCalledTimes(1);
  });

  it("opens the editor with the inbox's current policy", async () => {
    const element = await loadedConsole();
    one(element, 'tr.inbox-row[data-inbox-id="12"] lightning-button-icon.edit').click();
    await flush();

    expect(one(element, '.policy-editor h2').textContent).toBe('c.Inbox_Editor_Title_Edit');
    expect(field(element, 'inboxId').value).toBe('12');
    expect(field(element, 'inboxId').disabled).toBe(true);
    expect(field(element, 'active').checked).toBe(true);
    expect(field(element, 'target').value).toBe('Contact');
    expect(field(element, 'target').options.map((option) => option.value)).toEqual([
      'Contact',
      'Lead',
      'Contact_Then_Lead',
    ]);
    expect(field(element, 'bodyCapture').value).toBe('First_N');
    expect(field(element, 'bodyMaxChars').value).toBe(500);
    expect(field(element, 'defaultOwnerId').value).toBe('005000000000001AAA');
  });

  it('asks for a character count only when the body capture is "first N characters"', async () => {
    const element = await loadedConsole();
    one(element, 'lightning-button.new-policy').click();
    await flush();
    expect(field(element, 'bodyMaxChars')).toBeNull();
    change(field(element, 'bodyCapture'), { value: 'First_N' });
    await flush();
    expect(field(element, 'bodyMaxChars')).not.toBeNull();
  });

  it('saves the edited policy, follows the deployment and refreshes the list when it succeeds', async () => {
    savePolicy.mockResolvedValue({ jobId: JOB_ID, inboxId: '44', developerName: 'Inbox_44' });
    const element = await loadedConsole();
    one(element, 'tr.inbox-row[data-inbox-id="44"] lightning-button-icon.edit').click();
    await flush();
    change(field(element, 'active'), { checked: true });
    change(field(element, 'target'), { value: 'Contact_Then_Lead' });
    change(field(element, 'bodyCapture'), { value: 'First_N' });
    await flush();
    change(field(element, 'bodyMaxChars'), { value: '200' });
    change(field(element, 'defaultOwnerId'), { value: '005000000000002AAA' });
    one(element, 'lightning-button.save').click();
    await flush();

    expect(savePolicy).toHaveBeenCalledWith({
      policy: {
        inboxId: '44',
        inboxName: '採用窓口',
        active: true,
        target: 'Contact_Then_Lead',
        bodyCapture: 'First_N',
        bodyMaxChars: 200,
        defaultOwnerId: '005000000000002AAA',
      },
    });
    expect(one(element, '.policy-editor')).toBeNull();
    const status = one(element, '.deployment-status');
    expect(status.getAttribute('role')).toBe('status');
    expect(status.textContent).toBe('c.Inbox_Deploy_In_Progress');

    emitMessage(CHANNEL, { inbx__Job_Id__c: JOB_ID.slice(0, 15), inbx__Status__c: 'Succeeded', inbx__Message__c: '' });
    await flush();
    expect(status.textContent).toBe('c.Inbox_Deploy_Succeeded');
    expect(refreshApex).toHaveBeenCalled();
  });

  it("reports a failed deployment with Salesforce's message", async () => {
    savePolicy.mockResolvedValue({ jobId: JOB_ID, inboxId: '12', developerName: 'Inbox_12' });
    const element = await loadedConsole();
    one(element, 'lightning-button.new-policy').click();
    await flush();
    change(field(element, 'inboxId'), { value: '12' });
    one(element, 'lightning-button.save').click();
    await flush();

    emitMessage(CHANNEL, { inbx__Job_Id__c: '0Af000000000999AAA', inbx__Status__c: 'Succeeded' });
    await flush();
    expect(one(element, '.deployment-status').textContent).toBe('c.Inbox_Deploy_In_Progress');

    emitMessage(CHANNEL, { inbx__Job_Id__c: JOB_ID, inbx__Status__c: 'Failed', inbx__Message__c: 'Value too long' });
    await flush();
    expect(one(element, '.deployment-message').classList).toContain('slds-theme_error');
    expect(one(element, '.deployment-status').textContent).toBe('c.Inbox_Deploy_Failed');
    expect(refreshApex).not.toHaveBeenCalled();
  });

  it('applies a deployment result that arrives before the save call answers', async () => {
    let answerSave;
    savePolicy.mockReturnValue(new Promise((resolve) => (answerSave = resolve)));
    const element = await loadedConsole();
    one(element, 'lightning-button.new-policy').click();
    await flush();
    change(field(element, 'inboxId'), { value: '77' });
    one(element, 'lightning-button.save').click();
    await flush();

    emitMessage(CHANNEL, { Job_Id__c: JOB_ID, Status__c: 'Succeeded' });
    answerSave({ jobId: JOB_ID, inboxId: '77', developerName: 'Inbox_77' });
    await flush();
    expect(one(element, '.deployment-status').textContent).toBe('c.Inbox_Deploy_Succeeded');
  });

  it('keeps the editor open and shows why when Apex rejects the policy', async () => {
    savePolicy.mockRejectedValue({ body: { message: 'The default owner must be the ID of an active user.' } });
    const element = await loadedConsole();
    one(element, 'lightning-button.new-policy').click();
    await flush();
    change(field(element, 'inboxId'), { value: '90' });
    change(field(element, 'defaultOwnerId'), { value: '001000000000001AAA' });
    one(element, 'lightning-button.save').click();
    await flush();

    const alert = one(element, '.editor-error');
    expect(alert.getAttribute('role')).toBe('alert');
    expect(alert.textContent).toBe('The default owner must be the ID of an active user.');
    expect(one(element, '.policy-editor')).not.toBeNull();
    expect(one(element, '.deployment-status').textContent).toBe('');
  });

  it('says so when the deployment takes longer than usual', async () => {
    savePolicy.mockResolvedValue({ jobId: JOB_ID, inboxId: '12', developerName: 'Inbox_12' });
    const element = await loadedConsole();
    one(element, 'lightning-button.new-policy').click();
    await flush();
    change(field(element, 'inboxId'), { value: '12' });
    jest.useFakeTimers();
    one(element, 'lightning-button.save').click();
    await Promise.resolve();
    await Promise.resolve();
    jest.advanceTimersByTime(10 * 60 * 1000);
    await Promise.resolve();
    expect(one(element, '.deployment-status').textContent).toBe('c.Inbox_Deploy_Still_Running');
  });

  it('reports a streaming failure while a deployment is in progress', async () => {
    savePolicy.mockResolvedValue({ jobId: JOB_ID, inboxId: '12', developerName: 'Inbox_12' });
    const element = await loadedConsole();
    one(element, 'lightning-button.new-policy').click();
    await flush();
    change(field(element, 'inboxId'), { value: '12' });
    one(element, 'lightning-button.save').click();
    await flush();
    emitError({ error: 'handshake denied' });
    await flush();
    expect(one(element, '.deployment-status').textContent).toBe('c.Inbox_Deploy_Failed');
  });

  it('closes the editor without saving on cancel', async () => {
    const element = await loadedConsole();
    one(element, 'lightning-button.new-policy').click();
    await flush();
    one(element, 'lightning-button.cancel').click();
    await flush();
    expect(one(element, '.policy-editor')).toBeNull();
    expect(savePolicy).not.toHaveBeenCalled();
  });

  it('refreshes the list on demand', async () => {
    const element = await loadedConsole();
    one(element, 'lightning-button-icon.refresh').click();
    expect(refreshApex).toHaveBeenCalledTimes(1);
  });

  it('is accessible with the list and the editor open', async () => {
    const element = await loadedConsole();
    one(element, 'tr.inbox-row[data-inbox-id="12"] lightning-button-icon.edit').click();
    await flush();
    await expect(element).toBeAccessible();
  });
});
