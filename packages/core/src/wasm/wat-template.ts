/**
 * Fills the placeholders of a WAT template (the WebAssembly kernels' sources) with numbers from
 * the TypeScript modules that share them, so the kernels' offsets cannot drift from the code
 * that lays out their memory. Placeholders are `{{NAME}}` (a constant) or `{{name(a,b)}}` (a
 * function of integer arguments); every value must be a non-negative integer (a byte offset,
 * a size or an immediate). Used by the build; nothing here runs when the kernels do.
 */

/** What a template's placeholders may name. */
export interface WatTemplateValues {
  constants: Record<string, number>;
  /** Functions by name, with the number of integer arguments each takes. */
  functions: Record<string, { arity: number; value: (...args: number[]) => number }>;
}

/** The template with every placeholder replaced; throws on an unknown or unreadable one. */
export function fillWatTemplate(template: string, values: WatTemplateValues): string {
  const filled = template.replace(
    /\{\{\s*([A-Za-z_]\w*)\s*(?:\(([^)]*)\))?\s*\}\}/g,
    (placeholder, name: string, list: string | undefined) => {
      const value = evaluate(values, name, list);
      if (!Number.isInteger(value) || value < 0) {
        throw new Error(`WAT template: ${placeholder} gives ${value}, not a byte offset`);
      }
      return String(value);
    },
  );
  const left = /\{\{[^}]*\}?\}?/.exec(filled);
  if (left) throw new Error(`WAT template: cannot read the placeholder ${left[0]}`);
  return filled;
}

function evaluate(values: WatTemplateValues, name: string, list: string | undefined): number {
  if (list === undefined) {
    if (!Object.hasOwn(values.constants, name)) {
      throw new Error(`WAT template: no constant ${name}`);
    }
    return values.constants[name]!;
  }
  if (!Object.hasOwn(values.functions, name)) throw new Error(`WAT template: no function ${name}`);
  const { arity, value } = values.functions[name]!;
  const args = list.split(',').map((text) => Number(text.trim()));
  if (args.length !== arity || !args.every(Number.isInteger)) {
    throw new Error(`WAT template: ${name}(${list}) needs ${arity} integers`);
  }
  return value(...args);
}
