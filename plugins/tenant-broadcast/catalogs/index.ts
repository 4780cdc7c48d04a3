/** The event catalogs this plugin ships, by the name `options.catalogs` selects them with. */
import type { TSchema } from 'realtime-server'
import { crmTenantEvents } from './crm-tenant-events.js'
import { whatsappCrmEvents } from './whatsapp-crm.js'

export const catalogs = {
  'crm-tenant-events': crmTenantEvents,
  'whatsapp-crm': whatsappCrmEvents
} as const satisfies Readonly<Record<string, Readonly<Record<string, TSchema>>>>

export type CatalogName = keyof typeof catalogs

export const catalogNames: CatalogName[] = Object.keys(catalogs).filter((name): name is CatalogName => Object.hasOwn(catalogs, name))

export { crmTenantEvents, whatsappCrmEvents }
