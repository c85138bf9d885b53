/** Event types of the webhook catalogue (docs/webhooks.md). A leaf module: the config validates endpoint filters against it. */
export const EVENT_TYPES = [
  'message.rejected',
  'message.quarantined',
  'message.allowed',
  'quarantine.released',
  'quarantine.deleted',
  'quarantine.reported',
  'soc_alert.opened',
  'soc_alert.updated',
  'alert.firing',
  'alert.resolved',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
