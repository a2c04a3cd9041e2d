// What `require("fs")` finds in the Worker bundle: nothing. protobufjs (whose .proto parser the
// schema registry uses, worker/schemas/proto-text.ts) reaches for `fs` only to load files from
// disk, which a Worker never does; without this alias the bundle would import Node's `fs`.
export default {};
