import type { SecurityEvent } from '../../lib/store/types.js';

/** A rejected message's security event as the plugin logs it (tests of the event log, SOC alerts and webhooks). */
export function securityEvent(id: string, over: Partial<SecurityEvent> = {}): SecurityEvent {
  return {
    id,
    at: Date.now(),
    action: 'reject',
    smtpCode: 550,
    score: 90,
    tenant: 'default',
    mailFrom: 'lure@phish.example',
    from: 'lure@phish.example',
    subject: `Verify your account ${id}`,
    urlHosts: ['login.phish.example'],
    reasons: ['URL_LOOKALIKE'],
    recipients: ['carol@example.org'],
    ...over,
  };
}
