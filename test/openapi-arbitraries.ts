// fast-check arbitraries from the JSON Schemas in /openapi.json: mostly valid values (so the
// spec-driven fuzz reaches 2xx answers and checks them), sometimes one mutation away from valid
// (so refusals are exercised too). Covers the keywords our schemas use; an unknown one fails.
import fc from 'fast-check';

export type JsonSchema = Record<string, any>;

const LEN_CAP = 40;

/**
 * Values for a schema; refs resolve against the spec's components. Hints name real values for
 * properties by name (the suite's rail, an id that exists), mixed in with generated ones, so a
 * request is valid often enough to reach its 2xx answer.
 */
export function valueFor(schema: JsonSchema, components: Record<string, JsonSchema>, hints: Record<string, fc.Arbitrary<unknown>> = {}): fc.Arbitrary<unknown> {
  const valueFor_ = (s: JsonSchema) => valueFor(s, components, hints);
  if (schema.$ref) return valueFor_(components[String(schema.$ref).replace('#/components/schemas/', '')]!);
  if ('const' in schema) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...(schema.enum as unknown[]));
  if (schema.anyOf || schema.oneOf) return fc.oneof(...((schema.anyOf ?? schema.oneOf) as JsonSchema[]).map(valueFor_));
  if (Array.isArray(schema.type)) return fc.oneof(...schema.type.map((t: string) => valueFor_({ ...schema, type: t })));
  switch (schema.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer': {
      const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -1000);
      const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : 1_000_000);
      return fc.integer({ min, max });
    }
    case 'number':
      return fc.double({ min: schema.minimum ?? schema.exclusiveMinimum ?? -1000, max: schema.maximum ?? schema.exclusiveMaximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'string':
      return stringFor(schema);
    case 'array': {
      const items = valueFor_(schema.items ?? {});
      const constraints = { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 3, Math.max(3, schema.minItems ?? 0)) };
      return schema.uniqueItems ? fc.uniqueArray(items, { ...constraints, selector: (v) => JSON.stringify(v) }) : fc.array(items, constraints);
    }
    case 'object':
    case undefined: {
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set<string>(schema.required ?? []);
      const prop = (k: string, s: JsonSchema) => (hints[k] ? fc.oneof({ arbitrary: hints[k]!, weight: 3 }, { arbitrary: valueFor_(s), weight: 1 }) : valueFor_(s));
      const record = fc.record(Object.fromEntries(Object.entries(props).map(([k, s]) => [k, prop(k, s)])), { requiredKeys: [...required].filter((k) => k in props) });
      if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
        const keys = stringFor({ type: 'string', minLength: 1, maxLength: schema.propertyNames?.maxLength ?? 20 });
        const extra = fc.dictionary(keys, valueFor_(schema.additionalProperties), { maxKeys: Math.min(schema.maxProperties ?? 3, 3) });
        return fc.tuple(record, extra).map(([r, e]) => ({ ...e, ...r }));
      }
      return record;
    }
    default:
      throw new Error(`no arbitrary for schema ${JSON.stringify(schema)}`);
  }
}

function stringFor(schema: JsonSchema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = Math.max(min, Math.min(schema.maxLength ?? LEN_CAP, LEN_CAP));
  const fits = (s: string) => s.length >= min && s.length <= (schema.maxLength ?? Infinity);
  if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter(fits);
  if (schema.format === 'email') return fc.emailAddress().filter(fits);
  if (schema.format === 'date-time' || schema.format === 'date') return fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
  if (schema.format === 'uri') return fc.webUrl().filter(fits);
  return fc.string({ minLength: min, maxLength: max });
}

/** One step off a valid object: a required key dropped, an unknown key added, or a value of the wrong type. */
export function mutated(value: unknown): fc.Arbitrary<unknown> {
  const obj = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const keys = Object.keys(obj);
  return fc.oneof(
    fc.constant({ ...obj, zz_unknown: 1 }),
    keys.length ? fc.constantFrom(...keys).map((k) => Object.fromEntries(Object.entries(obj).filter(([x]) => x !== k))) : fc.constant(obj),
    keys.length ? fc.tuple(fc.constantFrom(...keys), fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.string(), fc.array(fc.integer(), { maxLength: 2 }))).map(([k, v]) => ({ ...obj, [k]: v })) : fc.constant([obj]),
  );
}
