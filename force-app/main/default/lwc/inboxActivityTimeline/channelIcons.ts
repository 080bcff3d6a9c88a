/** The SLDS icon shown for each helpdesk channel (its API value on `Channel__c`). */
const CHANNEL_ICONS: Record<string, string> = {
  email: 'utility:email',
  sms: 'utility:sms',
  response_memo: 'utility:note',
  call_memo: 'utility:call',
  line: 'utility:chat',
  r_messe: 'utility:chat',
  yahoo: 'utility:email',
  chatplus: 'utility:chat',
  chatwork: 'utility:chat',
  instagram_dm: 'utility:socialshare',
  messenger: 'utility:chat',
  chat_widget: 'utility:comments',
};

const FALLBACK_ICON = 'utility:chat';

export function channelIcon(channel: string | null | undefined): string {
  return (channel ? CHANNEL_ICONS[channel] : undefined) ?? FALLBACK_ICON;
}
