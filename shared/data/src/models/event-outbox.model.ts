import { BaseModel } from './base.model';

export class EventOutbox extends BaseModel {
  static override tableName = 'event_outbox';
  static override jsonAttributes = ['envelope'];
  declare id: string;
  declare event_type: string;
  declare queue: string;
  declare workspace_id: string | null;
  declare envelope: Record<string, unknown>;
  declare attempts: number;
  declare last_error: string | null;
  declare created_at: Date;
  declare available_at: Date;
  declare enqueued_at: Date | null;
}
