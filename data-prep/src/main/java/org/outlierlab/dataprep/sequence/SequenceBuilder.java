package org.outlierlab.dataprep.sequence;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.outlierlab.dataprep.DataPrepSettings;
import org.outlierlab.dataprep.PrepStats;
import org.outlierlab.dataprep.Splits;
import org.outlierlab.dataprep.corpus.DocumentInfo;
import org.outlierlab.dataprep.corpus.DocumentSink;
import org.outlierlab.dataprep.tokenize.IntList;
import org.outlierlab.dataprep.tokenize.Tokenizer;

/**
 * Tokenises streamed documents, assigns each to a split, and cuts them into sequences: chunk mode cuts each
 * document on its own, pack mode concatenates a split's documents (each followed by the end-of-document id)
 * and emits overlapping windows of seq_len + 1 with stride seq_len. A document's tokens are held until it
 * ends, so a bad record discovered mid-document leaves no trace in the output.
 */
public final class SequenceBuilder implements DocumentSink {
  private final Tokenizer tokenizer;
  private final DataPrepSettings settings;
  private final SequenceSink out;
  private final PrepStats stats;
  private final long seqIdBase;
  private final Map<String, Packer> packers = new HashMap<>();

  private final IntList document = new IntList(1 << 12);
  private DocumentInfo info;
  private boolean firstSegment;
  private long contentHash;
  private String fixedSplit;
  private final Map<String, Long> nextSeqId = new HashMap<>();

  /** Sequence ids are {@code partition << 32 | n}: unique and deterministic without coordination. */
  public SequenceBuilder(
      Tokenizer tokenizer, DataPrepSettings settings, int partition, SequenceSink out, PrepStats stats) {
    this.tokenizer = tokenizer;
    this.settings = settings;
    this.out = out;
    this.stats = stats;
    this.seqIdBase = (long) partition << 32;
  }

  /** Documents that follow go to {@code split}; null assigns each by its content hash. */
  public void setFixedSplit(String split) {
    this.fixedSplit = split;
  }

  @Override
  public void begin(DocumentInfo documentInfo) {
    info = documentInfo;
    document.clear();
    firstSegment = true;
    contentHash = Splits.EMPTY_HASH;
  }

  @Override
  public void text(CharSequence segment) {
    long start = System.nanoTime();
    tokenizer.encode(segment, firstSegment, document);
    stats.tokenizeNanos += System.nanoTime() - start;
    firstSegment = false;
    if (fixedSplit == null) {
      contentHash = Splits.update(contentHash, segment);
    }
  }

  @Override
  public void end() {
    String split = fixedSplit != null
        ? fixedSplit
        : Splits.byHash(contentHash, settings.splitSeed(), settings.validationFraction());
    PrepStats.SplitCounts counts = stats.split(split);
    counts.documents++;
    counts.tokens += document.size();
    try {
      if (settings.mode() == DataPrepSettings.Mode.CHUNK) {
        chunk(split, counts);
      } else {
        packers.computeIfAbsent(split, Packer::new).add(document, info, counts);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    info = null;
  }

  @Override
  public void bad(String reason) {
    stats.bad(reason);
    info = null;
    document.clear();
  }

  /** Drops the partial windows left in pack mode; call once after the last document. */
  public void finish() {
    for (Map.Entry<String, Packer> e : packers.entrySet()) {
      stats.split(e.getKey()).droppedTokens += e.getValue().buffer.size();
    }
    packers.clear();
  }

  private void chunk(String split, PrepStats.SplitCounts counts) throws IOException {
    int seqLen = settings.seqLen();
    int full = document.size() / seqLen;
    for (int k = 0; k < full; k++) {
      emit(split, document.copyRange(k * seqLen, (k + 1) * seqLen), info, counts);
    }
    counts.droppedTokens += document.size() - (long) full * seqLen;
  }

  private void emit(String split, int[] tokens, DocumentInfo first, PrepStats.SplitCounts counts)
      throws IOException {
    long n = nextSeqId.merge(split, 1L, Long::sum) - 1;
    out.write(split, seqIdBase | n, tokens, first);
    counts.sequences++;
  }

  private record DocumentStart(long position, DocumentInfo info) {}

  /** One split's token stream in pack mode, remembering which document each buffered token came from. */
  private final class Packer {
    final String split;
    final IntList buffer = new IntList(1 << 12);
    /** Stream position of buffer[0]. */
    long bufferStart;
    /** Documents with tokens in the buffer (the first may have started before it), by stream position. */
    final ArrayDeque<DocumentStart> starts = new ArrayDeque<>();

    Packer(String split) {
      this.split = split;
    }

    void add(IntList tokens, DocumentInfo doc, PrepStats.SplitCounts counts) throws IOException {
      starts.addLast(new DocumentStart(bufferStart + buffer.size(), doc));
      for (int i = 0; i < tokens.size(); i++) {
        buffer.add(tokens.get(i));
      }
      buffer.add(tokenizer.endOfDocumentId());
      int stride = settings.seqLen();
      int consumed = 0;
      while (buffer.size() - consumed >= stride + 1) {
        emit(split, buffer.copyRange(consumed, consumed + stride + 1), documentAt(bufferStart + consumed), counts);
        consumed += stride;
      }
      buffer.dropFirst(consumed);
      bufferStart += consumed;
    }

    /** The document holding stream position {@code position}; forgets documents wholly before it. */
    private DocumentInfo documentAt(long position) {
      while (starts.size() > 1 && secondStart() <= position) {
        starts.removeFirst();
      }
      return starts.getFirst().info();
    }

    private long secondStart() {
      var it = starts.iterator();
      it.next();
      return it.next().position();
    }
  }
}
