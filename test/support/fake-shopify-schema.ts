import { buildSchema, GraphQLSchema } from 'graphql';

/**
 * A subset of Shopify's GraphQL Admin API schema, with Shopify's own type, field, argument
 * and enum names (2026-10), for the local store of the tests. Queries sent to the local
 * store are parsed and validated against it (graphql-js), so a misspelt field or a wrong
 * argument fails as it would at Shopify. Shopify's Money, URL, DateTime and
 * UnsignedInt64 are strings on the wire.
 */
export const SHOPIFY_ADMIN_SDL = /* GraphQL */ `
  scalar DateTime
  scalar Money
  scalar URL
  scalar UnsignedInt64

  enum ProductStatus {
    ACTIVE
    ARCHIVED
    DRAFT
  }
  enum ProductVariantInventoryPolicy {
    CONTINUE
    DENY
  }
  enum ProductSortKeys {
    CREATED_AT
    ID
    INVENTORY_TOTAL
    PRODUCT_TYPE
    PUBLISHED_AT
    RELEVANCE
    TITLE
    UPDATED_AT
    VENDOR
  }
  enum CountPrecision {
    AT_LEAST
    EXACT
  }
  enum CurrencyCode {
    AUD
    CAD
    CHF
    CNY
    DKK
    EUR
    GBP
    JPY
    NOK
    NZD
    PLN
    SEK
    USD
  }
  enum CountryCode {
    AT
    AU
    BE
    BR
    CA
    CH
    CN
    CZ
    DE
    DK
    ES
    FI
    FR
    GB
    IE
    IN
    IT
    JP
    MX
    NL
    NO
    NZ
    PL
    PT
    SE
    US
    ZA
  }
  enum BulkOperationStatus {
    CANCELED
    CANCELING
    COMPLETED
    CREATED
    EXPIRED
    FAILED
    RUNNING
  }
  enum BulkOperationErrorCode {
    ACCESS_DENIED
    INTERNAL_SERVER_ERROR
    TIMEOUT
  }
  enum BulkOperationType {
    MUTATION
    QUERY
  }
  enum BulkOperationUserErrorCode {
    INVALID
    OPERATION_IN_PROGRESS
  }
  enum WebhookSubscriptionTopic {
    APP_UNINSTALLED
    BULK_OPERATIONS_FINISH
    INVENTORY_LEVELS_UPDATE
    ORDERS_CANCELLED
    ORDERS_CREATE
    ORDERS_FULFILLED
    ORDERS_PAID
    ORDERS_UPDATED
    PRODUCTS_CREATE
    PRODUCTS_DELETE
    PRODUCTS_UPDATE
    REFUNDS_CREATE
  }
  enum WebhookSubscriptionFormat {
    JSON
    XML
  }
  enum OrderCreateInputsInventoryBehavior {
    BYPASS
    DECREMENT_IGNORING_POLICY
    DECREMENT_OBEYING_POLICY
  }
  enum OrderCreateFinancialStatus {
    AUTHORIZED
    EXPIRED
    PAID
    PARTIALLY_PAID
    PARTIALLY_REFUNDED
    PENDING
    REFUNDED
    VOIDED
  }
  enum OrderCreateUserErrorCode {
    INVALID
    PRODUCT_NOT_FOUND
    INVENTORY_NOT_AVAILABLE
  }

  interface Node {
    id: ID!
  }

  type PageInfo {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }

  type Shop implements Node {
    id: ID!
    name: String!
    myshopifyDomain: String!
    currencyCode: CurrencyCode!
  }

  type Count {
    count: Int!
    precision: CountPrecision!
  }

  type Image {
    url: URL!
    altText: String
  }
  type MediaPreviewImage {
    image: Image
  }
  interface Media {
    id: ID!
    preview: MediaPreviewImage
  }
  type MediaImage implements Media & Node {
    id: ID!
    preview: MediaPreviewImage
    image: Image
  }

  type Product implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    title: String!
    handle: String!
    status: ProductStatus!
    tags: [String!]!
    createdAt: DateTime!
    updatedAt: DateTime!
    featuredMedia: Media
    variants(
      first: Int
      after: String
      last: Int
      before: String
      reverse: Boolean
    ): ProductVariantConnection!
  }
  type ProductEdge {
    cursor: String!
    node: Product!
  }
  type ProductConnection {
    edges: [ProductEdge!]!
    nodes: [Product!]!
    pageInfo: PageInfo!
  }

  type ProductVariant implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    title: String!
    sku: String
    price: Money!
    position: Int!
    inventoryPolicy: ProductVariantInventoryPolicy!
    inventoryQuantity: Int
    inventoryItem: InventoryItem!
    product: Product!
  }
  type ProductVariantEdge {
    cursor: String!
    node: ProductVariant!
  }
  type ProductVariantConnection {
    edges: [ProductVariantEdge!]!
    nodes: [ProductVariant!]!
    pageInfo: PageInfo!
  }

  type InventoryItem implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    tracked: Boolean!
    updatedAt: DateTime!
    variant: ProductVariant!
    inventoryLevels(first: Int, after: String, last: Int, before: String): InventoryLevelConnection!
  }
  type InventoryItemEdge {
    cursor: String!
    node: InventoryItem!
  }
  type InventoryItemConnection {
    edges: [InventoryItemEdge!]!
    nodes: [InventoryItem!]!
    pageInfo: PageInfo!
  }

  type InventoryQuantity {
    name: String!
    quantity: Int!
  }
  type InventoryLevel implements Node {
    id: ID!
    updatedAt: DateTime!
    location: Location!
    item: InventoryItem!
    quantities(names: [String!]!): [InventoryQuantity!]!
  }
  type InventoryLevelEdge {
    cursor: String!
    node: InventoryLevel!
  }
  type InventoryLevelConnection {
    edges: [InventoryLevelEdge!]!
    nodes: [InventoryLevel!]!
    pageInfo: PageInfo!
  }

  type Location implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    name: String!
    isActive: Boolean!
    fulfillsOnlineOrders: Boolean!
  }
  type LocationEdge {
    cursor: String!
    node: Location!
  }
  type LocationConnection {
    edges: [LocationEdge!]!
    nodes: [Location!]!
    pageInfo: PageInfo!
  }

  type BulkOperation implements Node {
    id: ID!
    status: BulkOperationStatus!
    errorCode: BulkOperationErrorCode
    type: BulkOperationType!
    query: String!
    createdAt: DateTime!
    completedAt: DateTime
    objectCount: UnsignedInt64!
    rootObjectCount: UnsignedInt64!
    fileSize: UnsignedInt64
    url: URL
    partialDataUrl: URL
  }
  type BulkOperationUserError {
    field: [String!]
    message: String!
    code: BulkOperationUserErrorCode
  }
  type BulkOperationRunQueryPayload {
    bulkOperation: BulkOperation
    userErrors: [BulkOperationUserError!]!
  }

  type WebhookSubscription implements Node {
    id: ID!
    topic: WebhookSubscriptionTopic!
    uri: String!
    format: WebhookSubscriptionFormat!
  }
  type WebhookSubscriptionEdge {
    cursor: String!
    node: WebhookSubscription!
  }
  type WebhookSubscriptionConnection {
    edges: [WebhookSubscriptionEdge!]!
    nodes: [WebhookSubscription!]!
    pageInfo: PageInfo!
  }
  type UserError {
    field: [String!]
    message: String!
  }
  type WebhookSubscriptionCreatePayload {
    webhookSubscription: WebhookSubscription
    userErrors: [UserError!]!
  }
  type WebhookSubscriptionDeletePayload {
    deletedWebhookSubscriptionId: ID
    userErrors: [UserError!]!
  }
  input WebhookSubscriptionInput {
    uri: String
    format: WebhookSubscriptionFormat
  }

  type Order implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    name: String!
    tags: [String!]!
  }
  type OrderEdge {
    cursor: String!
    node: Order!
  }
  type OrderConnection {
    edges: [OrderEdge!]!
    nodes: [Order!]!
    pageInfo: PageInfo!
  }
  type OrderCreateUserError {
    field: [String!]
    message: String!
    code: OrderCreateUserErrorCode
  }
  type OrderCreatePayload {
    order: Order
    userErrors: [OrderCreateUserError!]!
  }

  input AttributeInput {
    key: String!
    value: String!
  }
  input OrderCreateLineItemInput {
    variantId: ID
    quantity: Int!
  }
  input OrderCreateUpsertCustomerAttributesInput {
    email: String
    firstName: String
    lastName: String
    phone: String
  }
  input OrderCreateCustomerInput {
    toAssociate: ID
    toUpsert: OrderCreateUpsertCustomerAttributesInput
  }
  input MailingAddressInput {
    address1: String
    address2: String
    city: String
    company: String
    countryCode: CountryCode
    firstName: String
    lastName: String
    phone: String
    provinceCode: String
    zip: String
  }
  input OrderCreateOrderInput {
    currency: CurrencyCode
    email: String
    lineItems: [OrderCreateLineItemInput!]
    tags: [String!]
    note: String
    customAttributes: [AttributeInput!]
    sourceIdentifier: String
    financialStatus: OrderCreateFinancialStatus
    customer: OrderCreateCustomerInput
    shippingAddress: MailingAddressInput
  }
  input OrderCreateOptionsInput {
    inventoryBehaviour: OrderCreateInputsInventoryBehavior
    sendReceipt: Boolean
    sendFulfillmentReceipt: Boolean
  }

  type Query {
    shop: Shop!
    node(id: ID!): Node
    product(id: ID!): Product
    products(
      first: Int
      after: String
      last: Int
      before: String
      query: String
      sortKey: ProductSortKeys
      reverse: Boolean
    ): ProductConnection!
    productsCount(query: String, limit: Int): Count
    locations(
      first: Int
      after: String
      last: Int
      before: String
      includeInactive: Boolean
      query: String
    ): LocationConnection!
    inventoryItems(
      first: Int
      after: String
      last: Int
      before: String
      query: String
    ): InventoryItemConnection!
    orders(first: Int, after: String, last: Int, before: String, query: String): OrderConnection!
    webhookSubscriptions(
      first: Int
      after: String
      last: Int
      before: String
      topics: [WebhookSubscriptionTopic!]
    ): WebhookSubscriptionConnection!
  }

  type Mutation {
    bulkOperationRunQuery(
      query: String!
      groupObjects: Boolean! = false
    ): BulkOperationRunQueryPayload
    webhookSubscriptionCreate(
      topic: WebhookSubscriptionTopic!
      webhookSubscription: WebhookSubscriptionInput!
    ): WebhookSubscriptionCreatePayload
    webhookSubscriptionDelete(id: ID!): WebhookSubscriptionDeletePayload
    orderCreate(order: OrderCreateOrderInput!, options: OrderCreateOptionsInput): OrderCreatePayload
  }
`;

let cached: GraphQLSchema | null = null;

export function shopifyAdminSchema(): GraphQLSchema {
  cached ??= buildSchema(SHOPIFY_ADMIN_SDL);
  return cached;
}
