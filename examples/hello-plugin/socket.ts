/** The hello plugin's Socket.IO handlers. */
import type { PluginNamespace } from 'realtime-server'
import { TooManyGreetings } from './errors.js'
import { Hello } from './events.js'
import type { HelloOptions } from './schema.js'
import type { GreetingCounter } from './store.js'

export function registerSocketHandlers (ns: PluginNamespace, opts: HelloOptions, counter: GreetingCounter): void {
  ns.handle('hello', Hello, async (ctx, { name }) => {
    const count = await counter.add(ctx.user.tenantId)
    if (opts.maxGreetingsPerTenant > 0 && count > opts.maxGreetingsPerTenant) throw new TooManyGreetings(ctx.user.tenantId, String(count))
    const text = `${opts.greeting}, ${name}!`
    await ctx.publish({ event: 'hello:greeted', payload: { name, text, count }, except: { socketId: ctx.id } })
    return { text, count }
  })
}
