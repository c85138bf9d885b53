// Tests send through the same client as `phishx send`.
export { sendRaw, toCrlf, type SmtpAnswer } from '../../lib/smtp-send.js';
