import * as z from 'zod/mini';

/**
 * zod/mini registers no locale (classic zod registers English with its first schema): without this every issue
 * would read "Invalid input", losing the messages the config, the webhook answers and the tests rely on. Every
 * schema module imports this file, so English is set even when one of them is loaded alone; the bundle keeps
 * English and no other locale (scripts/bundle-plugins.ts).
 */
z.config(z.locales.en());
