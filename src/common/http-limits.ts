/** Largest accepted request body, inbound store webhooks included (larger: 413). */
export const MAX_BODY_BYTES = 1024 * 1024;
