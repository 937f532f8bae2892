package org.outlierlab.dataprep;

import java.io.Serializable;
import java.util.List;

/**
 * The data-prep job's settings, validated by the caller (the CLI reads them from {@code data_prep.*}; see
 * conf/defaults.conf for what each means).
 *
 * @param trainList Languini: file listing the training books, one name per line (empty: split by hash)
 * @param testList Languini: file listing the held-out books (they form the validation split)
 */
public record DataPrepSettings(
    Format format,
    List<String> inputs,
    String out,
    boolean overwrite,
    String textField,
    String trainList,
    String testList,
    String tokenizer,
    String eodToken,
    int seqLen,
    Mode mode,
    double validationFraction,
    long splitSeed,
    double maxBadFraction,
    long partitionBytes)
    implements Serializable {

  public enum Format {
    CODEPARROT,
    LANGUINI,
    FILES
  }

  public enum Mode {
    /** Each document cut into seq_len pieces, the short tail dropped. */
    CHUNK,
    /** Documents concatenated with end-of-document ids; windows of seq_len + 1 with stride seq_len. */
    PACK
  }

  /** Tokens per stored row: pack mode stores one extra so inputs and targets come from the same row. */
  public int rowLength() {
    return mode == Mode.PACK ? seqLen + 1 : seqLen;
  }
}
