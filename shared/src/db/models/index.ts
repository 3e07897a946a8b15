export * from './base.model';
export * from './workspace.model';
export * from './agent.model';
export * from './cost.model';
export * from './audit-log.model';
export * from './event-outbox.model';
