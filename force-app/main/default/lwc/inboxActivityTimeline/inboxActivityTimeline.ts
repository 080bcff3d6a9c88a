import { LightningElement, api, wire } from 'lwc';
import getActivities from '@salesforce/apex/ActivityTimelineController.getActivities';
import getChannelOptions from '@salesforce/apex/ActivityTimelineController.getChannelOptions';
import TITLE from '@salesforce/label/c.Inbox_Timeline_Title';
import CHANNEL_FILTER from '@salesforce/label/c.Inbox_Timeline_Channel_Filter';
import ALL_CHANNELS from '@salesforce/label/c.Inbox_Timeline_All_Channels';
import EMPTY from '@salesforce/label/c.Inbox_Timeline_Empty';
import EMPTY_CHANNEL from '@salesforce/label/c.Inbox_Timeline_Empty_Channel';
import LOAD_ERROR from '@salesforce/label/c.Inbox_Timeline_Load_Error';
import LOAD_MORE from '@salesforce/label/c.Inbox_Timeline_Load_More';
import SHOW_BODY from '@salesforce/label/c.Inbox_Timeline_Show_Body';
import HIDE_BODY from '@salesforce/label/c.Inbox_Timeline_Hide_Body';
import NO_BODY from '@salesforce/label/c.Inbox_Timeline_No_Body';
import OPEN_TICKET from '@salesforce/label/c.Inbox_Timeline_Open_Ticket';
import OPERATOR from '@salesforce/label/c.Inbox_Timeline_Operator';
import INBOX from '@salesforce/label/c.Inbox_Timeline_Inbox';
import LOADING from '@salesforce/label/c.Inbox_Loading';
import { errorMessage, httpsUrl } from 'c/inboxUtils';
import { channelIcon } from './channelIcons';

type ActivityPage = Apex.ActivityTimelineService.ActivityPage;
type ActivityItem = Apex.ActivityTimelineService.ActivityItem;

interface ChannelOption {
  label: string;
  value: string;
}

/** An item as the template shows it. */
interface TimelineEntry {
  id: string;
  subject: string;
  body: string;
  hasBody: boolean;
  expanded: boolean;
  ariaExpanded: string;
  toggleLabel: string;
  bodyId: string;
  occurredAt: string | null;
  channelLabel: string;
  directionLabel: string;
  operatorName: string;
  inboxName: string;
  iconName: string;
  ticketUrl: string | null;
}

const PAGE_SIZE = 20;
const ALL = '';

/**
 * The helpdesk actions that the bridge synced to this Lead or Contact as Events, newest first,
 * filterable by channel and loaded a page at a time.
 */
export default class InboxActivityTimeline extends LightningElement {
  @api recordId?: string;

  channel = ALL;
  items: ActivityItem[] = [];
  nextCursor: string | null = null;
  isLoading = true;
  isLoadingMore = false;
  loadError?: string;
  loadMoreError?: string;
  expandedIds: ReadonlySet<string> = new Set();
  channelChoices: ChannelOption[] = [];

  readonly labels = {
    title: TITLE,
    channelFilter: CHANNEL_FILTER,
    loadMore: LOAD_MORE,
    noBody: NO_BODY,
    openTicket: OPEN_TICKET,
    operator: OPERATOR,
    inbox: INBOX,
    loading: LOADING,
  };

  @wire(getChannelOptions)
  wiredChannels({ data }: ApexWireResult<Apex.PicklistOptions.Option[]>): void {
    this.channelChoices = (data ?? []).map((option) => ({ label: option.label ?? '', value: option.value ?? '' }));
  }

  @wire(getActivities, { recordId: '$recordId', channel: '$channel', cursor: null, pageSize: PAGE_SIZE })
  wiredFirstPage({ data, error }: ApexWireResult<ActivityPage>): void {
    if (data) {
      this.items = data.items ?? [];
      this.nextCursor = data.nextCursor ?? null;
      this.loadError = undefined;
      this.isLoading = false;
    } else if (error) {
      this.items = [];
      this.nextCursor = null;
      this.loadError = errorMessage(error, LOAD_ERROR);
      this.isLoading = false;
    }
  }

  get channelOptions(): ChannelOption[] {
    return [{ label: ALL_CHANNELS, value: ALL }, ...this.channelChoices];
  }

  get entries(): TimelineEntry[] {
    return this.items.map((item, index) => {
      const id = item.id ?? `item-${index}`;
      const expanded = this.expandedIds.has(id);
      const body = item.body ?? '';
      return {
        id,
        subject: item.subject ?? '',
        body,
        hasBody: body.length > 0,
        expanded,
        ariaExpanded: String(expanded),
        toggleLabel: expanded ? HIDE_BODY : SHOW_BODY,
        bodyId: `body-${id}`,
        occurredAt: item.occurredAt ?? null,
        channelLabel: item.channelLabel ?? item.channel ?? '',
        directionLabel: item.directionLabel ?? item.direction ?? '',
        operatorName: item.operatorName ?? '',
        inboxName: item.inboxName ?? '',
        iconName: channelIcon(item.channel),
        // The link comes from record data: only an https URL becomes a link, never `javascript:`.
        ticketUrl: httpsUrl(item.ticketUrl),
      };
    });
  }

  get hasEntries(): boolean {
    return this.items.length > 0;
  }

  get emptyMessage(): string {
    return this.channel === ALL ? EMPTY : EMPTY_CHANNEL;
  }

  get hasMore(): boolean {
    return this.nextCursor !== null;
  }

  get listBusy(): string {
    return String(this.isLoadingMore);
  }

  handleChannelChange(event: CustomEvent<{ value: string }>): void {
    if (event.detail.value === this.channel) {
      return;
    }
    this.channel = event.detail.value;
    this.isLoading = true;
    this.loadMoreError = undefined;
    this.expandedIds = new Set();
  }

  handleToggleBody(event: Event): void {
    const id = event.currentTarget instanceof HTMLElement ? event.currentTarget.dataset.id : undefined;
    if (id === undefined) {
      return;
    }
    const expanded = new Set(this.expandedIds);
    if (expanded.has(id)) {
      expanded.delete(id);
    } else {
      expanded.add(id);
    }
    this.expandedIds = expanded;
  }

  async handleLoadMore(): Promise<void> {
    if (this.nextCursor === null || this.isLoadingMore || this.recordId === undefined) {
      return;
    }
    this.isLoadingMore = true;
    this.loadMoreError = undefined;
    try {
      const page = await getActivities({
        recordId: this.recordId,
        channel: this.channel,
        cursor: this.nextCursor,
        pageSize: PAGE_SIZE,
      });
      this.items = [...this.items, ...(page.items ?? [])];
      this.nextCursor = page.nextCursor ?? null;
    } catch (error) {
      this.loadMoreError = errorMessage(error, LOAD_ERROR);
    } finally {
      this.isLoadingMore = false;
    }
  }
}
