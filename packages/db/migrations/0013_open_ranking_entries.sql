-- A claim walks the current ranking from the top. Labeled items stay in the ranking until the next
-- one is made, so every claim walked past all the items labeled since (one items probe each): a
-- claim slowed down with each label (2,500 buffer hits a claim after 800 labels, measured with
-- EXPLAIN ANALYZE). The entries now say whether their item is labeled, kept by a trigger on the
-- item's status for the project's current ranking (whoever writes the status: submits, imports,
-- reviews sending an item back to the pool), and claims walk a partial index of the others.
-- Older rankings are not kept up to date: claims read only the current one.
ALTER TABLE ranking_entries ADD COLUMN item_labeled boolean NOT NULL DEFAULT false;

UPDATE ranking_entries re SET item_labeled = true
FROM items i
WHERE i.id = re.item_id AND i.status = 'labeled';

-- Highest priority first, the item id breaking ties: the order claims and the ranking endpoint
-- read in, without a sort step (which read 32 rows past the first).
CREATE INDEX ranking_entries_open ON ranking_entries (ranking_id, priority DESC, item_id) WHERE NOT item_labeled;
DROP INDEX ranking_entries_order;

CREATE FUNCTION ranking_entry_follows_item_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE ranking_entries
  SET item_labeled = (NEW.status = 'labeled')
  WHERE ranking_id = (SELECT current_ranking_id FROM projects WHERE id = NEW.project_id)
    AND item_id = NEW.id
    AND item_labeled <> (NEW.status = 'labeled');
  RETURN NULL;
END
$$;

CREATE TRIGGER items_status_to_current_ranking
AFTER UPDATE OF status ON items
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
EXECUTE FUNCTION ranking_entry_follows_item_status();
