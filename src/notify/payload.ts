// The body and headers of one delivery: `json` is the notification as a document, `slack` is
// the `{ text }` an incoming webhook of Slack (or Mattermost, or Rocket.Chat) takes.
import { randomUUID } from 'node:crypto';
import type { NotifyTarget } from '../spec/index.js';
import type { NewDelivery } from '../store/index.js';
import type { Notification } from './events.js';
import { SIGNATURE_HEADER, signBody } from './signature.js';

export const EVENT_HEADER = 'x-hotswap-event';
export const DELIVERY_HEADER = 'x-hotswap-delivery';

const ICONS: Record<Notification['event'], string> = {
  'rollout.started': ':arrows_counterclockwise:',
  'rollout.succeeded': ':white_check_mark:',
  'rollout.failed': ':x:',
  'rollout.rolled-back': ':leftwards_arrow_with_hook:',
  'rollout.paused': ':double_vertical_bar:',
  'instance.crash-looping': ':boom:',
  'alert.firing': ':rotating_light:',
  'alert.resolved': ':large_green_circle:',
};

export function deliveryFor(
  n: Notification,
  target: NotifyTarget,
  nowMs = Date.now(),
): NewDelivery {
  const id = randomUUID();
  const body =
    target.format === 'slack'
      ? JSON.stringify({ text: `${ICONS[n.event]} ${n.message}` })
      : JSON.stringify({
          id,
          event: n.event,
          service: n.service,
          rollout: n.rolloutId,
          at: n.at,
          message: n.message,
          details: n.details,
        });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'hotswap',
    [EVENT_HEADER]: n.event,
    [DELIVERY_HEADER]: id,
  };
  if (target.secret !== null)
    headers[SIGNATURE_HEADER] = signBody(target.secret, body, Math.floor(nowMs / 1000));
  return {
    event: n.event,
    service: n.service,
    url: target.url,
    headers,
    body,
    timeoutMs: target.timeoutMs,
    maxAttempts: target.retries + 1,
  };
}
