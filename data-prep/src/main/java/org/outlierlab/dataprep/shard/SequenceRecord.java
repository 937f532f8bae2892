package org.outlierlab.dataprep.shard;

import org.outlierlab.dataprep.corpus.DocumentInfo;

/** One row of a token shard. */
record SequenceRecord(long seqId, int[] tokens, DocumentInfo firstDocument) {}
