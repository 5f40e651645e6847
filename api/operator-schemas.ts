// JSON Schemas of the operator accounts API and console sign-in (merged into api/schemas.ts).
const role = { enum: ['viewer', 'operator', 'approver', 'admin'] } as const;

export const operatorSchemas = {
  OperatorCreate: {
    type: 'object',
    additionalProperties: false,
    required: ['email', 'role'],
    properties: {
      email: { type: 'string', format: 'email', minLength: 3, maxLength: 254 },
      name: { type: 'string', minLength: 1, maxLength: 200 },
      role,
      password: { type: 'string', minLength: 12, maxLength: 200 },
    },
  },
  OperatorUpdate: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: { role, name: { type: 'string', minLength: 1, maxLength: 200 } },
  },
  OperatorDisable: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', minLength: 1, maxLength: 1000 } } },
  OperatorPassword: { type: 'object', additionalProperties: false, required: ['password'], properties: { password: { type: 'string', minLength: 12, maxLength: 200 } } },
  OperatorTokenCreate: {
    type: 'object',
    additionalProperties: false,
    properties: {
      label: { type: 'string', minLength: 1, maxLength: 200 },
      role,
      expires_in_s: { type: 'integer', minimum: 60, maximum: 366 * 24 * 3600 },
    },
  },
  TotpConfirm: { type: 'object', additionalProperties: false, required: ['code'], properties: { code: { type: 'string', pattern: '^[0-9]{6}$' } } },
  ConsoleSignIn: {
    type: 'object',
    additionalProperties: false,
    required: ['email', 'password'],
    properties: {
      email: { type: 'string', minLength: 3, maxLength: 254 },
      password: { type: 'string', minLength: 1, maxLength: 200 },
      totp: { type: 'string', pattern: '^[0-9]{6}$' },
    },
  },
} as const;
