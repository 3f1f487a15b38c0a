/*
 * OpenAPI 3 schemas of the External API, field for field as seed 000's examples. They document
 * the routes (/api/openapi.json, /api/docs); answers are serialised by the route code itself.
 */

const envelope = (data: object) => ({
  type: 'object',
  properties: {
    data,
    errorMessage: { type: 'string', nullable: true },
    success: { type: 'boolean' },
    responseCode: { type: 'integer' },
  },
});

const str = { type: 'string', nullable: true };
const int = { type: 'integer', nullable: true };
const num = { type: 'number' };
const dateTime = { type: 'string', format: 'date-time' };

const periodHeader = {
  billPeriodId: { type: 'integer' },
  periodName: { type: 'string' },
  startDate: dateTime,
  endDate: dateTime,
};

export const parametersResponse = envelope({
  type: 'object',
  properties: {
    endDates: { type: 'array', items: { type: 'object', properties: { label: { type: 'string', example: '2019-10-31' } } } },
    customers: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, name: { type: 'string' } } } },
  },
});

export const summaryResponse = envelope({
  type: 'object',
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          customerCode: { type: 'string' },
          customerName: { type: 'string' },
          customerAccountCode: str,
          sku: str,
          isBillable: { type: 'boolean' },
          lineDescription: { type: 'string' },
          previousPeriod: num,
          change: num,
          currentPeriod: num,
        },
      },
    },
    ...periodHeader,
  },
});

const detailItem = {
  type: 'object',
  properties: {
    billPeriodID: { type: 'integer' },
    periodName: { type: 'string' },
    billPeriodStartDate: dateTime,
    billPeriodEndDate: dateTime,
    customerId: { type: 'integer' },
    customerCode: { type: 'string' },
    customerName: { type: 'string' },
    customerAccountCode: str,
    address1: str,
    address2: str,
    country: str,
    postCode: str,
    email: str,
    billCustomerID: { type: 'integer' },
    billCustomerCode: { type: 'string' },
    billCustomerName: { type: 'string' },
    billCustomerAccountCode: str,
    billAddress1: str,
    billAddress2: str,
    billCountry: str,
    billPostCode: str,
    billEmail: str,
    billItemID: { type: 'integer' },
    serviceChangeID: { type: 'integer' },
    userId: int,
    upn: str,
    userName: str,
    serviceId: int,
    serviceCode: str,
    serviceName: str,
    instanceName: str,
    sku: str,
    skuType: { type: 'string', enum: ['Customer', 'User'] },
    planCode: str,
    servicePlanName: str,
    lineDescription: { type: 'string' },
    summaryGrouping: { type: 'string' },
    percentDuration: num,
    isBillable: { type: 'boolean' },
    overrideReason: str,
    billConfigRuleID: int,
    changeStartDate: dateTime,
    changeEndDate: { ...dateTime, nullable: true },
    quantity: num,
    action: { type: 'string', enum: ['Added', 'Removed', 'Carried'] },
    addedByUserID: int,
    addedByUserName: str,
    removedByUserID: int,
    removedByUserName: str,
    department: str,
    location: str,
    actionedDate: dateTime,
    actionedBy: str,
    resultCount: { type: 'integer' },
  },
};

export const detailResponse = envelope({ type: 'object', properties: { items: { type: 'array', items: detailItem }, ...periodHeader } });

export const errorResponse = envelope({ type: 'object', nullable: true });

export const endDateParam = {
  type: 'object',
  required: ['endDate'],
  properties: { endDate: { type: 'string', description: 'The end date of the billing period (YYYY-MM-DD, from /api/Billing/parameters)' } },
};

export const summaryQuery = {
  type: 'object',
  properties: {
    customerId: { type: 'integer', description: 'The customer to generate a billing summary for' },
    billable: { type: 'integer', enum: [0, 1], description: 'Whether to only include billable items (1)' },
    aggregateByCustomer: { type: 'boolean', description: 'Whether to aggregate the results by customers (one row per customer and SKU)' },
  },
};

export const detailQuery = {
  type: 'object',
  properties: {
    customerId: { type: 'integer', description: 'The customer to report on' },
    serviceSearch: { type: 'string', description: 'Search for a specific service (part of its code or name)' },
    userSearch: { type: 'string', description: 'Search for a specific user (part of the user name, UPN or display name)' },
    billable: { type: 'integer', enum: [0, 1], description: 'Whether to only include billable items (1)' },
    format: {
      type: 'string',
      enum: ['json', 'csv', 'xlsx'],
      description: 'json (default), csv (also Accept: text/csv) or xlsx (an Excel download)',
    },
  },
};
