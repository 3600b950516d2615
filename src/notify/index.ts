// Notifications (issue 15): journal entries → outbox rows → webhook deliveries.
export { Notifier, type NotifierDeps } from './notifier.js';
export { DeliveryLoop, type DeliveryLoopOptions } from './delivery.js';
export { notificationOf, type Notification } from './events.js';
export { SIGNATURE_HEADER, signBody, verifySignature } from './signature.js';
export { DELIVERY_HEADER, EVENT_HEADER } from './payload.js';
export { backoffMs, nextAttemptAt, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
