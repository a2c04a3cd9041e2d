// Reads archived segments back from R2 for replay, keeping the last one read: a reader paging
// through the archive asks for the same segment several pages in a row.
import type { MessageRow } from "../log/rows";
import type { Segment } from "./index";
import { decodeSegment } from "./segments";

/** A segment the index lists is not in the bucket (deleted by hand, or the binding points elsewhere). */
export class ArchiveMissing extends Error {}

export class ArchiveReader {
  private last: { key: string; rows: MessageRow[] } | null = null;

  constructor(private readonly bucket: R2Bucket | undefined) {}

  get available(): boolean {
    return this.bucket !== undefined;
  }

  async rows(segment: Segment): Promise<MessageRow[]> {
    if (this.last?.key === segment.key) return this.last.rows;
    if (!this.bucket) throw new ArchiveMissing("no R2 bucket is bound as ARCHIVE");
    const object = await this.bucket.get(segment.key);
    if (!object) throw new ArchiveMissing(`archived segment ${segment.key} is missing from the bucket`);
    const rows = decodeSegment(await object.text());
    this.last = { key: segment.key, rows };
    return rows;
  }

  forget(): void {
    this.last = null;
  }
}
