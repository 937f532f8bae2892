package org.outlierlab.dataprep;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/** Counts from one partition (or, merged, the whole job): what the manifest reports. */
public final class PrepStats implements Serializable {

  /** Per split: documents read, tokens they produced, sequences written, tokens dropped as short tails. */
  public static final class SplitCounts implements Serializable {
    public long documents;
    public long tokens;
    public long sequences;
    public long droppedTokens;

    void add(SplitCounts o) {
      documents += o.documents;
      tokens += o.tokens;
      sequences += o.sequences;
      droppedTokens += o.droppedTokens;
    }
  }

  public final Map<String, SplitCounts> splits = new TreeMap<>();
  public final Map<String, Long> badRecords = new TreeMap<>();
  public long files;
  public long bytes;
  public long tokenizeNanos;

  public SplitCounts split(String name) {
    return splits.computeIfAbsent(name, k -> new SplitCounts());
  }

  public void bad(String reason) {
    badRecords.merge(reason, 1L, Long::sum);
  }

  public long documents() {
    return splits.values().stream().mapToLong(s -> s.documents).sum();
  }

  public long tokens() {
    return splits.values().stream().mapToLong(s -> s.tokens).sum();
  }

  public long badTotal() {
    return badRecords.values().stream().mapToLong(Long::longValue).sum();
  }

  public PrepStats merge(PrepStats o) {
    o.splits.forEach((name, counts) -> split(name).add(counts));
    o.badRecords.forEach((reason, n) -> badRecords.merge(reason, n, Long::sum));
    files += o.files;
    bytes += o.bytes;
    tokenizeNanos += o.tokenizeNanos;
    return this;
  }
}
