/** The hello plugin's catalog errors: code, message, HTTP status and the hint a developer reads. */
import { defineError } from 'realtime-server'

export const TooManyGreetings = defineError('RT_HELLO_TOO_MANY', 'Too many greetings: tenant %s sent its %s', 429,
  'Raise plugins.hello.options.maxGreetingsPerTenant, or greet less.')
