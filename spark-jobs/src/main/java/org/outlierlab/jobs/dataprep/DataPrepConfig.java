package org.outlierlab.jobs.dataprep;

import java.util.List;
import org.outlierlab.dataprep.DataPrepSettings;
import org.outlierlab.dataprep.tokenize.TokenizerSpec;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigReader;

/** Reads and validates {@code data_prep.*} into {@link DataPrepSettings}. */
public final class DataPrepConfig {
  public static final String SECTION = "data_prep";

  private DataPrepConfig() {}

  public static DataPrepSettings read(ConfigReader c) {
    List<String> inputs = c.stringList("data_prep.input");
    if (inputs.isEmpty()) {
      throw new ConfigError("data_prep.input is empty; allowed: one or more paths or globs "
          + "(e.g. --input data/codeparrot/*.json.gz)");
    }
    String out = c.string("data_prep.out");
    if (out.isBlank()) {
      throw new ConfigError("data_prep.out is empty; allowed: an output directory path");
    }
    String tokenizer = c.string("data_prep.tokenizer");
    if (TokenizerSpec.kindOf(tokenizer) == null) {
      throw new ConfigError("data_prep.tokenizer = '" + tokenizer + "' is not allowed; allowed: " + TokenizerSpec.ALLOWED);
    }
    DataPrepSettings.Format format = c.choice("data_prep.format", DataPrepSettings.Format.class);
    String trainList = c.string("data_prep.languini.train_list");
    String testList = c.string("data_prep.languini.test_list");
    if (trainList.isEmpty() && !testList.isEmpty()) {
      throw new ConfigError("data_prep.languini.test_list is set but train_list is empty; allowed: both lists, "
          + "or neither (split by hash)");
    }
    return new DataPrepSettings(
        format,
        inputs,
        out,
        c.bool("data_prep.overwrite"),
        c.string("data_prep.codeparrot.text_field"),
        trainList,
        testList,
        tokenizer,
        c.string("data_prep.eod_token"),
        c.intBetween("data_prep.seq_len", 2, 1 << 20),
        c.choice("data_prep.mode", DataPrepSettings.Mode.class),
        c.fraction("data_prep.validation_fraction", 0.0, 1.0, false),
        c.longAtLeast("data_prep.split_seed", Long.MIN_VALUE),
        c.fraction("data_prep.max_bad_fraction", 0.0, 1.0, true),
        c.longAtLeast("data_prep.partition_bytes", 1));
  }
}
