/** The event catalogs this plugin ships, by the name `options.catalogs` selects them with. */
import type { TSchema } from 'realtime-server'
import { crmTenantEvents } from './crm-tenant-events.js'
import { whatsappCrmEvents } from './whatsapp-crm.js'

export const catalogs: Readonly<Record<CatalogName, Readonly<Record<string, TSchema>>>> = {
  'crm-tenant-events': crmTenantEvents,
  'whatsapp-crm': whatsappCrmEvents
}

export type CatalogName = 'crm-tenant-events' | 'whatsapp-crm'

export const catalogNames: CatalogName[] = ['crm-tenant-events', 'whatsapp-crm']

export { crmTenantEvents, whatsappCrmEvents }
