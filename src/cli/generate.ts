/** `npm run generate` (`realtime-server docs`): regenerates config/schema.json, docs/config-reference.md, docs/errors.md and the metrics section of docs/operations.md from their sources. */
import { writeDocs } from './docs/write.js'

for (const file of await writeDocs()) process.stdout.write(`wrote ${file}\n`)
