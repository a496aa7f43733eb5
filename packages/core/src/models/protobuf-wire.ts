/*
 * Just enough of the protobuf wire format to walk a message's fields and rebuild it with some of
 * them replaced. Fields are read as spans of the original bytes, so everything that is not
 * rewritten is copied back byte for byte (unknown fields, packed data, tensors' raw_data).
 */

/** Protobuf wire types. Groups (3, 4) are long deprecated and not used by ONNX. */
export const WireType = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

/** One field of a message as it lies in the buffer. */
export interface WireField {
  /** The field number from the .proto file. */
  number: number;
  wireType: number;
  /** Where the field starts (its tag) and ends, in the buffer it was read from. */
  start: number;
  end: number;
  /** Where the value starts: the payload for length-delimited fields, else the number. */
  valueStart: number;
}

/** Reads a base-128 varint at `offset`; returns its value (exact below 2^53) and the next offset. */
export function readVarint(bytes: Uint8Array, offset: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  let position = offset;
  for (let count = 0; count < 10; count++) {
    if (position >= bytes.length) throw new Error('Truncated protobuf varint');
    const byte = bytes[position++]!;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return { value, next: position };
    scale *= 128;
  }
  throw new Error('Malformed protobuf varint');
}

/** Encodes a non-negative integer (below 2^53) as a varint. */
export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`Cannot encode varint ${value}`);
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Uint8Array.from(out);
}

/** Splits one message (the whole of `bytes`) into its top-level fields, in order. */
export function readFields(bytes: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const start = offset;
    const tag = readVarint(bytes, offset);
    const number = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    if (number === 0) throw new Error('Protobuf field number 0');
    let valueStart = tag.next;
    let end: number;
    switch (wireType) {
      case WireType.varint:
        end = readVarint(bytes, valueStart).next;
        break;
      case WireType.fixed64:
        end = valueStart + 8;
        break;
      case WireType.fixed32:
        end = valueStart + 4;
        break;
      case WireType.bytes: {
        const length = readVarint(bytes, valueStart);
        valueStart = length.next;
        end = valueStart + length.value;
        break;
      }
      default:
        throw new Error(`Unsupported protobuf wire type ${wireType}`);
    }
    if (end > bytes.length) throw new Error(`Truncated protobuf field ${number}`);
    fields.push({ number, wireType, start, end, valueStart });
    offset = end;
  }
  return fields;
}

/** The payload of a length-delimited field (a view, not a copy). */
export function fieldBytes(message: Uint8Array, field: WireField): Uint8Array {
  return message.subarray(field.valueStart, field.end);
}

/** The value of a varint field. */
export function fieldVarint(message: Uint8Array, field: WireField): number {
  return readVarint(message, field.valueStart).value;
}

/** Encodes a length-delimited field: its tag, the payload's length, the payload. */
export function encodeBytesField(number: number, payload: Uint8Array): Uint8Array {
  return concatBytes([
    encodeVarint(number * 8 + WireType.bytes),
    encodeVarint(payload.length),
    payload,
  ]);
}

/** Encodes a varint field. */
export function encodeVarintField(number: number, value: number): Uint8Array {
  return concatBytes([encodeVarint(number * 8 + WireType.varint), encodeVarint(value)]);
}

/**
 * Rebuilds a message field by field: `replace` returns the new encoding of a field (an empty
 * array drops it) or undefined to keep the original bytes. Returns the input itself when
 * nothing changed.
 */
export function rewriteFields(
  message: Uint8Array,
  replace: (field: WireField) => Uint8Array | undefined,
): Uint8Array {
  const parts: Uint8Array[] = [];
  let changed = false;
  for (const field of readFields(message)) {
    const replacement = replace(field);
    if (replacement === undefined) {
      parts.push(message.subarray(field.start, field.end));
    } else {
      parts.push(replacement);
      changed = true;
    }
  }
  return changed ? concatBytes(parts) : message;
}

/** Joins byte arrays into one. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
