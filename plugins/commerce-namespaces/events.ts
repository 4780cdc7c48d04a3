/**
 * The event catalog of commerce-namespaces: the 23 server → client event types of the commerce back office
 * protocol, their payload schemas and their envelope.
 *
 * Payloads the seed details (order:created, order:status_changed, customer:activity, customer:online/offline,
 * inventory:updated, inventory:low_stock, product:price_changed, payment:received, payment:failed,
 * system:notification, system:alert, system:maintenance) follow it field for field. The others are named
 * by the seed without a shape; their schemas here are this plugin's documented choice (see README.md).
 * Every payload refuses unknown properties, so a typo is a 400 naming the field rather than a silent extra.
 */
import { Id as IdSchema, Type, type EventCatalog, type Static } from 'realtime-server'
import type { CommerceOptions } from './schema.js'

const Id = (description: string) => IdSchema(description)
const Name = (description: string) => Type.String({ description })
const Money = (description: string) => Type.Number({ minimum: 0, description })
const Stock = (description: string) => Type.Integer({ minimum: 0, description })
const EpochMs = (description: string) => Type.Number({ minimum: 0, description: `${description} (epoch ms).` })
const strict = { additionalProperties: false } as const

/**
 * Order states. The seed names the type `OrderStatus` and shows `pending` and `processing`; the rest of
 * the lifecycle is this plugin's choice.
 */
export const OrderStatus = Type.Enum(['pending', 'confirmed', 'processing', 'shipped', 'delivered', 'completed', 'cancelled', 'refunded'], {
  description: 'Order state.'
})

/** The roles of the seed (`UserRole`); `targetRoles` of system events name these. */
export const UserRole = Type.Enum(['admin', 'manager', 'staff', 'customer'], { description: 'A role of the commerce back office protocol.' })

/** `info | warning | error | success`, as in the seed's system events. */
export const NotificationSeverity = Type.Enum(['info', 'warning', 'error', 'success'])

/** `low | critical`, as in the seed's inventory:low_stock. */
export const StockSeverity = Type.Enum(['low', 'critical'])

/** Why stock changed, as in the seed's inventory:updated. */
export const StockChangeReason = Type.Enum(['sale', 'restock', 'adjustment', 'return'])

/** What a customer did, as in the seed's customer:activity. */
export const CustomerAction = Type.Enum(['viewing', 'cart_add', 'cart_remove', 'checkout_start', 'checkout_complete'])

/** `success | pending | failed`, as in the seed's payment:received. */
export const PaymentStatus = Type.Enum(['success', 'pending', 'failed'])

// --- orders ---------------------------------------------------------------------------------------------

export const OrderCreatedPayload = Type.Object({
  orderId: Id('Order id.'),
  customerId: Id('The ordering customer (their user id: customers see their own events only).'),
  customerName: Name('Customer display name.'),
  total: Money('Order total.'),
  status: OrderStatus,
  channel: Name('Sales channel, e.g. `online`, `pos`.')
}, strict)

/** Not detailed by the seed: the order's new values and which fields changed. */
export const OrderUpdatedPayload = Type.Object({
  orderId: Id('Order id.'),
  customerId: Id('The ordering customer.'),
  customerName: Type.Optional(Name('Customer display name.')),
  total: Type.Optional(Money('New total, when it changed.')),
  status: Type.Optional(OrderStatus),
  channel: Type.Optional(Name('Sales channel.')),
  changedFields: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Names of the fields that changed.' })
}, strict)

export const OrderStatusChangedPayload = Type.Object({
  orderId: Id('Order id.'),
  customerId: Id('The ordering customer.'),
  customerName: Name('Customer display name.'),
  oldStatus: OrderStatus,
  newStatus: OrderStatus,
  timestamp: EpochMs('When the status changed')
}, strict)

/** `{ orderId }` as in the seed; `customerId` may be added so that a matrix giving customers this event can filter it. */
export const OrderDeletedPayload = Type.Object({
  orderId: Id('Order id.'),
  customerId: Type.Optional(Id('The ordering customer.'))
}, strict)

// --- customers ------------------------------------------------------------------------------------------

export const CustomerActivityPayload = Type.Object({
  customerId: Id('Customer id.'),
  customerName: Type.Optional(Name('Customer display name.')),
  action: CustomerAction,
  productId: Type.Optional(Id('Product concerned, if any.')),
  productName: Type.Optional(Name('Product name.')),
  timestamp: EpochMs('When it happened')
}, strict)

/** Not detailed by the seed: which product a customer is looking at. */
export const CustomerViewingProductPayload = Type.Object({
  customerId: Id('Customer id.'),
  customerName: Type.Optional(Name('Customer display name.')),
  productId: Id('Product id.'),
  productName: Name('Product name.'),
  sku: Type.Optional(Name('Stock keeping unit.')),
  timestamp: EpochMs('When the view started')
}, strict)

/** Not detailed by the seed: a product added to a customer's cart, and the cart after it. */
export const CartPayload = Type.Object({
  customerId: Id('Customer id.'),
  customerName: Type.Optional(Name('Customer display name.')),
  productId: Id('Product id.'),
  productName: Name('Product name.'),
  quantity: Type.Integer({ minimum: 1, description: 'Units added.' }),
  unitPrice: Money('Price of one unit.'),
  cartTotal: Money('Cart total after the change.'),
  cartItemCount: Stock('Units in the cart after the change.'),
  timestamp: EpochMs('When it happened')
}, strict)

export const CustomerOnlineStatusPayload = Type.Object({
  customerId: Id('Customer id.'),
  isOnline: Type.Boolean(),
  lastSeen: EpochMs('Last activity')
}, strict)

// --- inventory ------------------------------------------------------------------------------------------

export const InventoryUpdatedPayload = Type.Object({
  productId: Id('Product id.'),
  productName: Name('Product name.'),
  sku: Name('Stock keeping unit.'),
  oldStock: Stock('Units before.'),
  newStock: Stock('Units after.'),
  difference: Type.Integer({ description: 'newStock - oldStock (negative for a sale).' }),
  reason: Type.Optional(StockChangeReason)
}, strict)

export const InventoryAlertPayload = Type.Object({
  productId: Id('Product id.'),
  productName: Name('Product name.'),
  sku: Name('Stock keeping unit.'),
  currentStock: Stock('Units left.'),
  threshold: Stock('The low-stock threshold crossed.'),
  severity: StockSeverity
}, strict)

export const InventoryOutOfStockPayload = Type.Object({
  productId: Id('Product id.'),
  productName: Name('Product name.'),
  sku: Name('Stock keeping unit.')
}, strict)

/** Not detailed by the seed: stock added, shaped like inventory:updated. */
export const RestockedPayload = Type.Object({
  productId: Id('Product id.'),
  productName: Name('Product name.'),
  sku: Name('Stock keeping unit.'),
  oldStock: Stock('Units before.'),
  newStock: Stock('Units after.'),
  quantityAdded: Type.Integer({ minimum: 1, description: 'Units added.' }),
  supplier: Type.Optional(Name('Who delivered.'))
}, strict)

// --- products -------------------------------------------------------------------------------------------

export const ProductPriceChangedPayload = Type.Object({
  productId: Id('Product id.'),
  productName: Name('Product name.'),
  sku: Name('Stock keeping unit.'),
  oldPrice: Money('Price before.'),
  newPrice: Money('Price after.'),
  changePercentage: Type.Number({ description: 'Relative change in percent, e.g. -16.67.' })
}, strict)

/** Not detailed by the seed: a new catalogue entry. */
export const ProductCreatedPayload = Type.Object({
  productId: Id('Product id.'),
  productName: Name('Product name.'),
  sku: Name('Stock keeping unit.'),
  price: Money('Price.'),
  stock: Stock('Initial units in stock.'),
  category: Type.Optional(Name('Category.'))
}, strict)

/** Not detailed by the seed: the product's current values and which fields changed. */
export const ProductUpdatedPayload = Type.Object({
  productId: Id('Product id.'),
  productName: Name('Product name.'),
  sku: Name('Stock keeping unit.'),
  changedFields: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Names of the fields that changed.' }),
  price: Type.Optional(Money('Price, when it changed.')),
  category: Type.Optional(Name('Category, when it changed.'))
}, strict)

export const ProductDeletedPayload = Type.Object({
  productId: Id('Product id.')
}, strict)

// --- payments -------------------------------------------------------------------------------------------

export const PaymentReceivedPayload = Type.Object({
  paymentId: Id('Payment id.'),
  orderId: Id('Order paid.'),
  customerId: Id('Paying customer.'),
  amount: Money('Amount paid.'),
  method: Name('Payment method, e.g. `credit_card`.'),
  status: PaymentStatus
}, strict)

export const PaymentFailedPayload = Type.Object({
  paymentId: Id('Payment id.'),
  orderId: Id('Order concerned.'),
  customerId: Id('Paying customer.'),
  amount: Money('Amount attempted.'),
  reason: Name('Why it failed (free text, as in the seed).'),
  retryable: Type.Boolean()
}, strict)

/** Not detailed by the seed: a refund of (part of) a payment. */
export const PaymentRefundedPayload = Type.Object({
  paymentId: Id('Payment refunded.'),
  orderId: Id('Order concerned.'),
  customerId: Id('Refunded customer.'),
  refundId: Id('Refund id.'),
  amount: Money('Amount refunded.'),
  reason: Type.Optional(Name('Why.'))
}, strict)

// --- system ---------------------------------------------------------------------------------------------

const TargetRoles = Type.Array(UserRole, {
  minItems: 1,
  uniqueItems: true,
  description: 'Only these roles receive it (within the roles the matrix allows); all of them when absent.'
})

export const SystemNotificationPayload = Type.Object({
  title: Name('Title.'),
  message: Name('Text.'),
  severity: NotificationSeverity,
  targetRoles: Type.Optional(TargetRoles),
  actionUrl: Type.Optional(Name('Where the UI should lead.'))
}, strict)

export const SystemAlertPayload = Type.Object({
  title: Name('Title.'),
  message: Name('Text.'),
  severity: NotificationSeverity,
  targetRoles: Type.Optional(TargetRoles)
}, strict)

export const MaintenancePayload = Type.Object({
  message: Name('Text.'),
  scheduledAt: Type.Optional(EpochMs('Start of the maintenance')),
  duration: Type.Optional(Type.Number({ minimum: 0, description: 'Expected length in milliseconds.' }))
}, strict)

/** Payload schema of every event type, keyed by type: `events.server` of the plugin. */
export const payloads = {
  'order:created': OrderCreatedPayload,
  'order:updated': OrderUpdatedPayload,
  'order:status_changed': OrderStatusChangedPayload,
  'order:deleted': OrderDeletedPayload,
  'customer:activity': CustomerActivityPayload,
  'customer:viewing_product': CustomerViewingProductPayload,
  'customer:added_to_cart': CartPayload,
  'customer:online': CustomerOnlineStatusPayload,
  'customer:offline': CustomerOnlineStatusPayload,
  'inventory:updated': InventoryUpdatedPayload,
  'inventory:low_stock': InventoryAlertPayload,
  'inventory:out_of_stock': InventoryOutOfStockPayload,
  'inventory:restocked': RestockedPayload,
  'product:price_changed': ProductPriceChangedPayload,
  'product:created': ProductCreatedPayload,
  'product:updated': ProductUpdatedPayload,
  'product:deleted': ProductDeletedPayload,
  'payment:received': PaymentReceivedPayload,
  'payment:failed': PaymentFailedPayload,
  'payment:refunded': PaymentRefundedPayload,
  'system:notification': SystemNotificationPayload,
  'system:alert': SystemAlertPayload,
  'system:maintenance': MaintenancePayload
} as const

export type EventType = keyof typeof payloads
export type EventPayload<T extends EventType> = Static<(typeof payloads)[T]>

/** Whether a name is one of the 23 types. */
export const isEventType = (name: string): name is EventType => Object.hasOwn(payloads, name)

/** The 23 types, in the seed's table order. */
export const eventTypes: readonly EventType[] = Object.keys(payloads).filter(isEventType)

/** The seed table's description of each type. */
export const descriptions: Record<EventType, string> = {
  'order:created': 'New order placed',
  'order:updated': 'Order modified',
  'order:status_changed': 'Status transition',
  'order:deleted': 'Order cancelled',
  'customer:activity': 'Customer action',
  'customer:viewing_product': 'Product view',
  'customer:added_to_cart': 'Cart update',
  'customer:online': 'Customer connected',
  'customer:offline': 'Customer disconnected',
  'inventory:updated': 'Stock changed',
  'inventory:low_stock': 'Low stock alert',
  'inventory:out_of_stock': 'No stock',
  'inventory:restocked': 'Stock added',
  'product:price_changed': 'Price updated',
  'product:created': 'New product',
  'product:updated': 'Product modified',
  'product:deleted': 'Product removed',
  'payment:received': 'Payment completed',
  'payment:failed': 'Payment failed',
  'payment:refunded': 'Refund issued',
  'system:notification': 'General notice',
  'system:alert': 'Important alert',
  'system:maintenance': 'Maintenance notice'
}

/**
 * What every client receives, on Socket.IO as the second handler argument (`(data, envelope)`) and on
 * the plain WebSocket as the JSON message itself.
 */
export interface EventEnvelope<T extends EventType = EventType> {
  type: T
  namespace: string
  data: EventPayload<T>
  timestamp: number
}

/** The schema of `EventEnvelope<T>` (the plain WebSocket's event messages). */
export const envelopeOf = <T extends EventType>(type: T) => Type.Object({
  type: Type.Literal(type),
  namespace: Type.String({ description: 'The namespace it is delivered in, without the slash.' }),
  data: payloads[type],
  timestamp: EpochMs('Time of the publish')
}, { ...strict, description: descriptions[type] })

/**
 * The plugin's event catalog for its options: the 23 server events, each in every configured namespace (a
 * publish may name another namespace than the matrix row's), with its payload. No client events: clients
 * choose namespaces by connecting to them, and the token decides the rest.
 */
export function catalog (opts: Pick<CommerceOptions, 'namespaces' | 'matrix'>) {
  const namespaces = opts.namespaces.map((name) => `/${name}`)
  const server = Object.fromEntries(eventTypes.map((type) => [type, {
    payload: payloads[type],
    description: `${descriptions[type]}. Delivered in /${opts.matrix[type].namespace} unless a publish names another namespace; a handler gets \`(data, envelope)\`.`,
    namespaces
  }]))
  return { server } satisfies EventCatalog
}
