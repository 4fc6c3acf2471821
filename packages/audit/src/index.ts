export {
  appendAuditEvents,
  auditEventsInsertSql,
  itemHistory,
  MAX_AUDIT_PAGE,
  pageAuditEvents,
  sealAuditEvents,
  startAuditSealer,
  verifyAuditChain,
  type AuditActor,
  type AuditChainBreak,
  type AuditChainVerdict,
  type AuditEvent,
  type AuditEventInput,
  type AuditPageOptions,
} from './audit-events.repository';
export { auditActor, INSTANCE_CHAIN, SYSTEM_ACTOR } from './audit-actor';
