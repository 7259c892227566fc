// Package docstore is a content-addressed store for uploaded PDF documents
// (CVs, motivation letters, support letters, referee letters) kept on disk,
// outside the database.
//
// Each document is stored once, under the lower-case hex SHA-256 of its
// content, at dir/ab/abcdef… where "ab" are the first two hex characters of
// the hash. The database keeps only the hash, the size and the metadata;
// identical uploads share one file (deduplication).
//
// # Content checks
//
// Documents are accepted on their content only, never on a file name or a
// declared media type. See [CheckPDF] for the exact rules. The check is a
// cheap sanity check, not a PDF parser: it does not look for JavaScript,
// auto-actions or other active content, and it does not prove the file is a
// well-formed PDF. Callers must therefore never let a browser render a
// document inline in the application's origin: documents are to be served
// with "Content-Disposition: attachment" and "X-Content-Type-Options:
// nosniff" (and a "Content-Type: application/pdf"). Setting those headers is
// the caller's job, not this package's.
//
// # Files and durability
//
// The store directory is created with mode 0o750 and stored documents have
// mode 0o640, so they are never world-readable. An upload is streamed to a
// temporary file inside the store directory (so that the final rename stays
// on one filesystem), hashed and checked as it is written, fsynced, and then
// renamed into place atomically; readers therefore never see a partial
// document. Temporary files are named ".upload-*" and are removed on every
// error; [New] also deletes stale ones left by a crash.
//
// # Garbage collection
//
// [Store.Remove] deletes a document that is no longer referenced. Because
// identical content is deduplicated, a concurrent upload of the same bytes
// may return the hash of a document that is being collected. Within one
// [Store] a Put and a Remove never interleave, but callers must still
// serialise "decide the hash is unreferenced, then Remove" against "Put, then
// record the hash" (for example by collecting only documents unreferenced for
// some grace period). Put refreshes the modification time of an existing
// document when it deduplicates to it, which such a grace period can use.
package docstore
