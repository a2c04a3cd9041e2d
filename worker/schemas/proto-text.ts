// A `.proto` source as a FileDescriptorSet, so a protobuf version may be given as text
// (`{proto, messageType}`) and then checked exactly like one given as a descriptor set.
// protobufjs parses and resolves the names (its reflection builds no code; the `eval` in its
// optional-module loader sits in a try and fails harmlessly where eval is refused); we then
// write the descriptors ourselves, since protobufjs's own ext/descriptor generates code.
// One file only: its imports may name the well-known types, nothing else.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { protoCamelCase } from "@bufbuild/protobuf/reflect";
import {
  type DescriptorProto,
  DescriptorProtoSchema,
  EnumDescriptorProtoSchema,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as FieldType,
  FieldDescriptorProtoSchema,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  type FileDescriptorSet,
  FileDescriptorSetSchema,
  file_google_protobuf_any,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
} from "@bufbuild/protobuf/wkt";
import * as protobuf from "protobufjs";
import { ErrorCode, fail, ok, type Result } from "../../shared/errors";

/** The imports a `.proto` text may have: the well-known types, which every runtime knows. */
const WELL_KNOWN: Readonly<Record<string, FileDescriptorProto>> = Object.fromEntries(
  [
    file_google_protobuf_any,
    file_google_protobuf_duration,
    file_google_protobuf_empty,
    file_google_protobuf_field_mask,
    file_google_protobuf_struct,
    file_google_protobuf_timestamp,
    file_google_protobuf_wrappers,
  ].map((file) => [file.proto.name, file.proto]),
);

const SCALARS: Readonly<Record<string, FieldType>> = {
  double: FieldType.DOUBLE,
  float: FieldType.FLOAT,
  int64: FieldType.INT64,
  uint64: FieldType.UINT64,
  int32: FieldType.INT32,
  fixed64: FieldType.FIXED64,
  fixed32: FieldType.FIXED32,
  bool: FieldType.BOOL,
  string: FieldType.STRING,
  bytes: FieldType.BYTES,
  uint32: FieldType.UINT32,
  sfixed32: FieldType.SFIXED32,
  sfixed64: FieldType.SFIXED64,
  sint32: FieldType.SINT32,
  sint64: FieldType.SINT64,
};

/** The name the text's own file goes by in the set. */
const FILE_NAME = "schema.proto";

/** Parses one `.proto` file (proto2 or proto3) into a FileDescriptorSet holding it and the well-known types it imports. */
export function descriptorSetOfProto(source: string): Result<FileDescriptorSet> {
  const syntax = syntaxOf(source);
  if (syntax !== "proto2" && syntax !== "proto3") {
    return fail(ErrorCode.InvalidSchema, `The .proto says ${syntax}: only proto2 and proto3 are read as text; send editions as a fileDescriptorSet`);
  }
  const root = new protobuf.Root();
  let parsed: protobuf.IParserResult;
  try {
    parsed = protobuf.parse(source, root, { keepCase: true });
  } catch (error) {
    return fail(ErrorCode.InvalidSchema, `The .proto does not parse: ${reasonOf(error)}`);
  }
  const imports = [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])];
  const foreign = imports.find((name) => !WELL_KNOWN[name]);
  if (foreign !== undefined) {
    return fail(ErrorCode.InvalidSchema, `The .proto imports ${foreign}: a .proto text may import only google/protobuf well-known types; send a fileDescriptorSet built with its imports instead`);
  }
  if (parsed.package === "google.protobuf" || (parsed.package ?? "").startsWith("google.protobuf.")) {
    return fail(ErrorCode.InvalidSchema, "The .proto may not declare package google.protobuf");
  }
  const common = (protobuf.common as unknown as { get(file: string): { nested: protobuf.INamespace["nested"] } | null }).get;
  try {
    for (const name of imports) root.addJSON(common(name)!.nested!);
    root.resolveAll();
  } catch (error) {
    return fail(ErrorCode.InvalidSchema, `The .proto does not resolve: ${reasonOf(error)}`);
  }
  const space = parsed.package ? root.lookup(parsed.package) : root;
  const own = space instanceof protobuf.Namespace ? space.nestedArray : [];
  const file = create(FileDescriptorProtoSchema, {
    name: FILE_NAME,
    package: parsed.package ?? "",
    syntax: syntax === "proto3" ? "proto3" : "",
    dependency: imports,
    messageType: own.filter((item): item is protobuf.Type => item instanceof protobuf.Type).map(messageOf),
    enumType: own.filter((item): item is protobuf.Enum => item instanceof protobuf.Enum).map(enumOf),
  });
  return ok(create(FileDescriptorSetSchema, { file: [...imports.map((name) => WELL_KNOWN[name]!), file] }));
}

/** `syntax = "…"` or `edition = "…"` at the top, after comments; none means proto2. */
function syntaxOf(source: string): string {
  const found = /^\s*(?:(?:\/\/[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)\s*)*(syntax|edition)\s*=\s*["']([^"']*)["']/.exec(source);
  if (!found) return "proto2";
  return found[1] === "edition" ? `edition ${found[2]}` : found[2]!;
}

function messageOf(type: protobuf.Type): MessageInitShape<typeof DescriptorProtoSchema> {
  const nestedType: DescriptorProto[] = [];
  const realOneofs = type.oneofsArray.filter((oneof) => !isSynthetic(oneof));
  // protoc's order: declared oneofs first, then one per proto3 `optional` field.
  const oneofs = [...realOneofs, ...type.oneofsArray.filter(isSynthetic)];
  // Extensions (`extend`) show up on the type they extend as copies named ".pkg.name": left out.
  const field = type.fieldsArray.filter((item) => !item.declaringField).map((item) => {
    const described: MessageInitShape<typeof FieldDescriptorProtoSchema> = {
      name: item.name,
      number: item.id,
      label: item.repeated || item.map ? Label.REPEATED : item.required ? Label.REQUIRED : Label.OPTIONAL,
      ...typeOf(item),
    };
    if (item.map) {
      const entry = mapEntryOf(item as unknown as protobuf.MapField);
      nestedType.push(create(DescriptorProtoSchema, entry));
      Object.assign(described, { type: FieldType.MESSAGE, typeName: `${type.fullName}.${entry.name}` });
    }
    const options = item.options ?? {};
    // protoc always writes json_name, and readers of descriptors take it as written.
    described.jsonName = typeof options.json_name === "string" ? options.json_name : protoCamelCase(item.name);
    if (options.default !== undefined) described.defaultValue = String(options.default);
    if (typeof options.packed === "boolean") described.options = { packed: options.packed };
    if (item.partOf) described.oneofIndex = oneofs.indexOf(item.partOf);
    if (options.proto3_optional === true) described.proto3Optional = true;
    return described;
  });
  for (const nested of type.nestedArray) if (nested instanceof protobuf.Type) nestedType.push(create(DescriptorProtoSchema, messageOf(nested)));
  return {
    name: type.name,
    field,
    nestedType,
    enumType: type.nestedArray.filter((item): item is protobuf.Enum => item instanceof protobuf.Enum).map((item) => create(EnumDescriptorProtoSchema, enumOf(item))),
    oneofDecl: oneofs.map((oneof) => ({ name: oneof.name })),
    extensionRange: (type.extensions ?? []).map((range) => ({ start: range[0]!, end: Math.min(range[1]!, 536870911) + 1 })),
  };
}

/** The nested `<Name>Entry` message protoc writes for a `map<K, V>` field. */
function mapEntryOf(field: protobuf.MapField): MessageInitShape<typeof DescriptorProtoSchema> & { name: string } {
  const name = `${field.name.split("_").map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join("")}Entry`;
  return {
    name,
    field: [
      { name: "key", number: 1, label: Label.OPTIONAL, jsonName: "key", type: SCALARS[field.keyType]! },
      { name: "value", number: 2, label: Label.OPTIONAL, jsonName: "value", ...typeOf(field) },
    ],
    options: { mapEntry: true },
  };
}

function typeOf(field: protobuf.FieldBase): { type: FieldType; typeName?: string } {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) return { type: FieldType.ENUM, typeName: resolved.fullName };
  if (resolved instanceof protobuf.Type) return { type: (resolved as protobuf.Type & { group?: boolean }).group ? FieldType.GROUP : FieldType.MESSAGE, typeName: resolved.fullName };
  return { type: SCALARS[field.type]! };
}

function enumOf(item: protobuf.Enum): MessageInitShape<typeof EnumDescriptorProtoSchema> {
  const aliased = new Set(Object.values(item.values)).size < Object.keys(item.values).length;
  return {
    name: item.name,
    value: Object.entries(item.values).map(([name, number]) => ({ name, number })),
    ...(aliased ? { options: { allowAlias: true } } : {}),
  };
}

function isSynthetic(oneof: protobuf.OneOf): boolean {
  return oneof.fieldsArray.length === 1 && oneof.fieldsArray[0]!.options?.proto3_optional === true;
}

function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0]!.slice(0, 300);
}
