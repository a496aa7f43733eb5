/*
 * Makes an ONNX model's batch dimension symbolic by editing its ModelProto bytes, so one
 * session.run can take N frames. The U²-Net files are exported with a fixed batch of 1 on the
 * graph's input and its first outputs; their Resize nodes take `sizes` from Shape(x) at run time,
 * so nothing inside the graph pins the batch. A model whose nodes do pin it (a constant Reshape,
 * Expand or ConstantOfShape shape, or Resize `sizes`, starting with 1) is refused rather than
 * edited into something that would fail or compute the wrong thing at batch N.
 *
 * Field numbers, from onnx/onnx.proto: ModelProto.graph = 7; GraphProto.node = 1,
 * initializer = 5, input = 11, output = 12, value_info = 13; NodeProto.input = 1, output = 2,
 * op_type = 4, attribute = 5; AttributeProto.name = 1, t = 5, ints = 8; ValueInfoProto.name = 1,
 * type = 2; TypeProto.tensor_type = 1; TypeProto.Tensor.shape = 2; TensorShapeProto.dim = 1;
 * Dimension.dim_value = 1, dim_param = 2; TensorProto.data_type = 2, int64_data = 7, name = 8,
 * raw_data = 9.
 */
import {
  encodeBytesField,
  fieldBytes,
  fieldVarint,
  readFields,
  readVarint,
  rewriteFields,
  WireType,
} from './protobuf-wire.js';

/** The name given to the batch dimension. */
export const BATCH_DIM_PARAM = 'batch';

/** What `makeBatchSymbolic` changed. */
export interface BatchEdit {
  /** The edited model, for `ort.InferenceSession.create(bytes)`. */
  bytes: Uint8Array;
  /** Graph inputs and outputs whose first dimension went from 1 to `batch`. */
  inputs: string[];
  outputs: string[];
  /** value_info entries dropped because their shape started with a fixed 1 (only hints). */
  droppedValueInfo: number;
}

/** Thrown when a model's nodes fix the batch at 1, so editing its signature is not enough. */
export class BatchPinnedError extends Error {
  constructor(readonly pins: string[]) {
    super(`The model's graph fixes the batch at 1 in: ${pins.join('; ')}`);
    this.name = 'BatchPinnedError';
  }
}

const text = new TextDecoder();
const utf8 = new TextEncoder();

const Model = { graph: 7 } as const;
const Graph = { node: 1, initializer: 5, input: 11, output: 12, valueInfo: 13 } as const;
const Node = { input: 1, opType: 4, attribute: 5 } as const;
const Attribute = { name: 1, t: 5, ints: 8 } as const;
const ValueInfo = { name: 1, type: 2 } as const;
const Tensor = { dataType: 2, int64Data: 7, name: 8, rawData: 9 } as const;
const INT64 = 7;

/**
 * Returns a copy of an ONNX model whose graph inputs and outputs have a symbolic first
 * dimension (`batch`) where they had a fixed 1; value_info shapes starting with a fixed 1 are
 * dropped (onnxruntime infers them again). Every other byte is copied unchanged. Throws
 * BatchPinnedError when a node bakes the batch of 1 into a constant shape.
 */
export function makeBatchSymbolic(model: Uint8Array): BatchEdit {
  const graphField = readFields(model).find((field) => field.number === Model.graph);
  if (!graphField || graphField.wireType !== WireType.bytes)
    throw new Error('ONNX model has no graph');
  const graph = fieldBytes(model, graphField);
  const pins = findBatchPins(graph);
  if (pins.length > 0) throw new BatchPinnedError(pins);
  // Old exports list the weights among the graph's inputs too; their first dimension is not a batch.
  const weights = new Set(
    readFields(graph)
      .filter((field) => field.number === Graph.initializer)
      .map((field) => stringField(fieldBytes(graph, field), Tensor.name)),
  );

  const inputs: string[] = [];
  const outputs: string[] = [];
  let droppedValueInfo = 0;
  const newGraph = rewriteFields(graph, (field) => {
    if (field.number === Graph.input || field.number === Graph.output) {
      const valueInfo = fieldBytes(graph, field);
      if (weights.has(valueInfoName(valueInfo))) return undefined;
      const edited = withSymbolicBatch(valueInfo);
      if (edited === valueInfo) return undefined;
      (field.number === Graph.input ? inputs : outputs).push(valueInfoName(valueInfo));
      return encodeBytesField(field.number, edited);
    }
    if (field.number === Graph.valueInfo) {
      if (firstDim(fieldBytes(graph, field)) !== 1) return undefined;
      droppedValueInfo++;
      return new Uint8Array(0);
    }
    return undefined;
  });
  const bytes = rewriteFields(model, (field) =>
    field.number === Model.graph ? encodeBytesField(Model.graph, newGraph) : undefined,
  );
  return { bytes, inputs, outputs, droppedValueInfo };
}

/**
 * Lists the nodes of a GraphProto that take a constant shape starting with 1 (Reshape, Expand,
 * ConstantOfShape, Resize `sizes`): these would keep a batch of 1 whatever the input says.
 */
export function findBatchPins(graph: Uint8Array): string[] {
  const constants = new Map<string, Uint8Array>();
  const nodes: { opType: string; inputs: string[]; attributes: Uint8Array[] }[] = [];
  for (const field of readFields(graph)) {
    const bytes = fieldBytes(graph, field);
    if (field.number === Graph.initializer) {
      constants.set(stringField(bytes, Tensor.name), bytes);
    } else if (field.number === Graph.node) {
      const parts = readFields(bytes);
      const opType = stringField(bytes, Node.opType);
      const inputs = parts
        .filter((part) => part.number === Node.input)
        .map((part) => text.decode(fieldBytes(bytes, part)));
      const attributes = parts
        .filter((part) => part.number === Node.attribute)
        .map((part) => fieldBytes(bytes, part));
      nodes.push({ opType, inputs, attributes });
      if (opType === 'Constant') {
        const value = attributes.find(
          (attribute) => stringField(attribute, Attribute.name) === 'value',
        );
        const output = parts.find((part) => part.number === 2);
        const tensor = value && readFields(value).find((part) => part.number === Attribute.t);
        if (value && output && tensor) {
          constants.set(text.decode(fieldBytes(bytes, output)), fieldBytes(value, tensor));
        }
      }
    }
  }
  const shapeInput: Record<string, number> = {
    Reshape: 1,
    Expand: 1,
    ConstantOfShape: 0,
    Resize: 3,
  };
  const pins: string[] = [];
  for (const node of nodes) {
    const index = shapeInput[node.opType];
    if (index === undefined) continue;
    const name = node.inputs[index];
    const tensor = name ? constants.get(name) : undefined;
    if (tensor && firstInt64(tensor) === 1) pins.push(`${node.opType} with constant ${name}`);
    if (node.opType === 'Reshape') {
      // Reshape before opset 5 carried its shape as an attribute.
      const shape = node.attributes.find(
        (attribute) => stringField(attribute, Attribute.name) === 'shape',
      );
      if (shape && firstRepeatedInt(shape, Attribute.ints) === 1)
        pins.push('Reshape with shape attribute');
    }
  }
  return pins;
}

/** A ValueInfoProto with its tensor shape's first dimension made symbolic, if it was a fixed 1. */
function withSymbolicBatch(valueInfo: Uint8Array): Uint8Array {
  return rewriteOne(valueInfo, ValueInfo.type, (type) =>
    rewriteOne(type, 1, (tensorType) =>
      rewriteOne(tensorType, 2, (shape) => {
        let first = true;
        return rewriteFields(shape, (field) => {
          if (field.number !== 1 || !first) return undefined;
          first = false;
          const dimension = fieldBytes(shape, field);
          const edited = rewriteFields(dimension, (part) =>
            part.number === 1 && fieldVarint(dimension, part) === 1
              ? encodeBytesField(2, utf8.encode(BATCH_DIM_PARAM))
              : undefined,
          );
          return edited === dimension ? undefined : encodeBytesField(1, edited);
        });
      }),
    ),
  );
}

/** Rewrites the payload of every length-delimited field `number` of a message with `edit`. */
function rewriteOne(
  message: Uint8Array,
  number: number,
  edit: (payload: Uint8Array) => Uint8Array,
): Uint8Array {
  return rewriteFields(message, (field) => {
    if (field.number !== number || field.wireType !== WireType.bytes) return undefined;
    const payload = fieldBytes(message, field);
    const edited = edit(payload);
    return edited === payload ? undefined : encodeBytesField(number, edited);
  });
}

/** The fixed first dimension of a ValueInfoProto's tensor shape; undefined if symbolic or absent. */
function firstDim(valueInfo: Uint8Array): number | undefined {
  const shape = nested(valueInfo, [ValueInfo.type, 1, 2]);
  const dim = shape && nested(shape, [1]);
  if (!dim) return undefined;
  const value = readFields(dim).find((field) => field.number === 1);
  return value ? fieldVarint(dim, value) : undefined;
}

function valueInfoName(valueInfo: Uint8Array): string {
  return stringField(valueInfo, ValueInfo.name);
}

/** Follows the first occurrence of each length-delimited field number in `path`. */
function nested(message: Uint8Array, path: readonly number[]): Uint8Array | undefined {
  let current = message;
  for (const number of path) {
    const field = readFields(current).find(
      (part) => part.number === number && part.wireType === WireType.bytes,
    );
    if (!field) return undefined;
    current = fieldBytes(current, field);
  }
  return current;
}

function stringField(message: Uint8Array, number: number): string {
  const field = readFields(message).find((part) => part.number === number);
  return field && field.wireType === WireType.bytes ? text.decode(fieldBytes(message, field)) : '';
}

/** The first element of an int64 TensorProto (raw_data or int64_data); undefined otherwise. */
function firstInt64(tensor: Uint8Array): number | undefined {
  const fields = readFields(tensor);
  const dataType = fields.find((field) => field.number === Tensor.dataType);
  if (!dataType || fieldVarint(tensor, dataType) !== INT64) return undefined;
  const raw = fields.find((field) => field.number === Tensor.rawData);
  if (raw) {
    const bytes = fieldBytes(tensor, raw);
    if (bytes.length < 8) return undefined;
    return Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigInt64(0, true));
  }
  return firstRepeatedInt(tensor, Tensor.int64Data);
}

/** The first value of a repeated integer field, packed or not; undefined when empty. */
function firstRepeatedInt(message: Uint8Array, number: number): number | undefined {
  const field = readFields(message).find((part) => part.number === number);
  if (!field) return undefined;
  if (field.wireType === WireType.varint) return fieldVarint(message, field);
  if (field.wireType !== WireType.bytes || field.end === field.valueStart) return undefined;
  return readVarint(message, field.valueStart).value;
}
