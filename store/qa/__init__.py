"""Quality assurance on top of the public `store.Store` API, one module a concern:

- `selection`: the records an export writes (`export_records`, an iterator: one record read,
  rendered and written at a time);
- `deidentify`: the store's secret for pseudonyms and date offsets (`deidentify_key`);
- `sampling`: a reproducible share of the letters (`sample_ids`);
- `review`: a second person confirms or corrects each field of someone else's gold record
  (`ReviewSession`, `finish_review`);
- `adjudication`: differing versions side by side, one chosen field by field
  (`AdjudicationSession`, `finish_adjudication`);
- `merge`: another annotator's store brought in, every version kept (`merge`);
- `stats`: work per annotator, letters per hour, the machine's accuracy by period
  (`gather_stats`).

Nothing here touches TinyDB directly; it only combines the store's public methods, so the
storage engine stays the store's business.
"""
