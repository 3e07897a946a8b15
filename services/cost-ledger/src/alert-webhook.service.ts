import { createHmac } from 'node:crypto';
import type { Knex } from 'knex';
import { BudgetAlertRepository } from '@raptorflow/data/repositories/budget-alert.repository';
import { getMetrics } from '@raptorflow/core/metrics/metrics';
import type { EventPayload } from '@raptorflow/events/bus/event-catalog';
import type { Logger } from '@raptorflow/core/logging/logger';
import { postWebhook } from './webhook-client';

export interface AlertWebhookOptions {
  db: Knex;
  /** Unset: alerts are not delivered anywhere. */
  url: string | undefined;
  secret: string;
  timeoutMs: number;
  /** Refuse receivers on loopback, link-local or private addresses (production). */
  blockPrivateAddresses: boolean;
  logger: Logger;
}

/**
 * The signature receivers check: HMAC-SHA256 with SECRET_KEY over `<timestamp>.<raw body>`, hex, sent as
 * `X-RaptorFlow-Signature: v1=<hex>` with `X-RaptorFlow-Timestamp: <unix seconds>`. Binding the timestamp lets
 * receivers refuse replays older than a few minutes.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class WebhookDeliveryError extends Error {}

/**
 * Delivers `budget.alert.fired` to BUDGET_ALERT_WEBHOOK_URL. It runs on its own queue, so a slow or dead
 * receiver only delays alerts, never folding; a failure throws and BullMQ retries with backoff. Every attempt
 * carries the same `X-RaptorFlow-Delivery` id (the alert id) so a receiver can drop a duplicate.
 */
export class AlertWebhookService {
  private readonly alerts: BudgetAlertRepository;
  private readonly url: string | undefined;
  private readonly secret: string;
  private readonly timeoutMs: number;
  private readonly blockPrivate: boolean;
  private readonly logger: Logger;

  constructor(opts: AlertWebhookOptions) {
    this.alerts = new BudgetAlertRepository(opts.db);
    this.url = opts.url;
    this.secret = opts.secret;
    this.timeoutMs = opts.timeoutMs;
    this.blockPrivate = opts.blockPrivateAddresses;
    this.logger = opts.logger;
  }

  async deliver(
    alert: EventPayload<'budget.alert.fired'>,
    workspaceId: string | null,
  ): Promise<{ delivered: boolean }> {
    if (!this.url) return { delivered: false };
    const already = await this.alerts.deliveryState(alert.alert_id);
    if (!already) return { delivered: false }; // re-armed (deleted) since: nothing to say any more
    if (already.delivered_at) return { delivered: true };
    const body = JSON.stringify({ type: 'budget.alert', workspace_id: workspaceId, ...alert });
    const timestamp = Math.floor(Date.now() / 1000);
    let error: string | undefined;
    try {
      const status = await postWebhook({
        url: this.url,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'RaptorFlow-Webhooks/1',
          'x-raptorflow-event': 'budget.alert',
          'x-raptorflow-delivery': alert.alert_id,
          'x-raptorflow-timestamp': String(timestamp),
          'x-raptorflow-signature': signWebhook(this.secret, timestamp, body),
        },
        body,
        timeoutMs: this.timeoutMs,
        blockPrivateAddresses: this.blockPrivate,
      });
      if (status >= 300 && status < 400) error = `receiver answered ${status} (redirects are not followed)`;
      else if (status < 200 || status >= 300) error = `receiver answered ${status}`;
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    await this.alerts.recordDelivery(alert.alert_id, error);
    getMetrics().webhookDeliveriesTotal.inc({ outcome: error ? 'failed' : 'delivered' });
    if (error) {
      this.logger.warn({ alert_id: alert.alert_id, error }, 'budget alert webhook failed; will retry');
      throw new WebhookDeliveryError(error);
    }
    return { delivered: true };
  }
}
