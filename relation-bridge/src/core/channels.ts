/**
 * Re:lation's twelve syncable channels (the seed FAQ lists exactly these) and the
 * action kinds that the bridge knows. Anything else is accepted at intake and recorded
 * as not synced.
 */
export const SYNCABLE_CHANNELS = [
  'email',
  'sms',
  'response_memo',
  'call_memo',
  'line',
  'r_messe',
  'yahoo',
  'chatplus',
  'chatwork',
  'instagram_dm',
  'messenger',
  'chat_widget',
] as const;
export type SyncableChannel = (typeof SYNCABLE_CHANNELS)[number];

export const CHANNEL_LABELS: Record<SyncableChannel, { ja: string; en: string }> = {
  email: { ja: 'メール', en: 'Email' },
  sms: { ja: 'SMS', en: 'SMS' },
  response_memo: { ja: '応対メモ', en: 'Response memo' },
  call_memo: { ja: '通話メモ', en: 'Call memo' },
  line: { ja: 'LINE', en: 'LINE' },
  r_messe: { ja: 'R-Messe', en: 'R-Messe' },
  yahoo: { ja: 'Yahoo!', en: 'Yahoo!' },
  chatplus: { ja: 'Chatplus', en: 'Chatplus' },
  chatwork: { ja: 'Chatwork', en: 'Chatwork' },
  instagram_dm: { ja: 'Instagram DM', en: 'Instagram DM' },
  messenger: { ja: 'Messenger for Business', en: 'Messenger for Business' },
  chat_widget: { ja: 'チャットウィジェット', en: 'Chat widget' },
};

export function isSyncableChannel(channel: string): channel is SyncableChannel {
  return (SYNCABLE_CHANNELS as readonly string[]).includes(channel);
}

export const KNOWN_ACTION_KINDS = [
  'message_received',
  'message_sent',
  'response_memo',
  'call_memo',
  'comment',
  'status_changed',
  'assignee_changed',
  'label_changed',
] as const;
export type KnownActionKind = (typeof KNOWN_ACTION_KINDS)[number];

/** Kinds synced unless the operator configures otherwise (SYNC_KINDS). */
export const DEFAULT_SYNCED_KINDS: readonly string[] = [
  'message_received',
  'message_sent',
  'response_memo',
  'call_memo',
];

export const DIRECTIONS = ['inbound', 'outbound', 'internal'] as const;
export type Direction = (typeof DIRECTIONS)[number];
