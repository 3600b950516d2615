// Label names hotswap puts on everything it creates, and the label-filter syntax of the API.

export const LABEL_MANAGED = 'hotswap.managed';
export const LABEL_SCOPE = 'hotswap.scope';
export const LABEL_SERVICE = 'hotswap.service';
export const LABEL_REVISION = 'hotswap.revision';
/** Container port the instance serves on (the one published on 127.0.0.1). */
export const LABEL_PORT = 'hotswap.port';

/** Either {key: value} pairs or raw filter terms ("key" or "key=value"). */
export type LabelSelector = Record<string, string> | string[];

/** The `label` filter terms for a selector. */
export function labelFilters(selector: LabelSelector): string[] {
  return Array.isArray(selector) ? selector : Object.entries(selector).map(([k, v]) => `${k}=${v}`);
}
