package org.outlierlab.dataprep;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.outlierlab.dataprep.corpus.BadRecord;
import org.outlierlab.dataprep.corpus.JsonLinesReader;
import org.outlierlab.dataprep.corpus.TextDocumentReader;
import org.outlierlab.dataprep.sequence.SequenceBuilder;
import org.outlierlab.dataprep.shard.ShardWriter;
import org.outlierlab.dataprep.tokenize.Tokenizer;
import org.outlierlab.dataprep.tokenize.TokenizerSpec;

/** One task of the data-prep job: read a partition's files, tokenise, cut sequences, write its shards. */
public final class PartitionProcessor {
  private PartitionProcessor() {}

  /**
   * Writes the partition's shards under {@code dir} (committed only if every file was processed) and returns
   * its counts. {@code attempt} makes the temporary file names unique per task attempt.
   */
  public static PrepStats run(
      PartitionPlan plan, DataPrepSettings settings, TokenizerSpec spec, String dir, Configuration conf, String attempt)
      throws IOException {
    Tokenizer tokenizer = spec.forThisThread();
    PrepStats stats = new PrepStats();
    try (ShardWriter writer = new ShardWriter(conf, new Path(dir), plan.index(), attempt)) {
      SequenceBuilder builder = new SequenceBuilder(tokenizer, settings, plan.index(), writer, stats);
      JsonLinesReader jsonLines = new JsonLinesReader(settings.textField());
      TextDocumentReader text = new TextDocumentReader();
      for (InputFile file : plan.files()) {
        builder.setFixedSplit(file.split());
        stats.files++;
        stats.bytes += file.length();
        Path path = new Path(file.uri());
        InputStream in;
        try {
          in = path.getFileSystem(conf).open(path);
        } catch (FileNotFoundException e) {
          builder.bad(BadRecord.MISSING_FILE); // deleted between listing and reading
          continue;
        }
        try (in) {
          if (settings.format() == DataPrepSettings.Format.CODEPARROT) {
            jsonLines.read(in, file.uri(), builder);
          } else {
            text.read(in, file.uri(), file.length(), builder);
          }
        }
      }
      builder.finish();
      writer.commit();
    }
    return stats;
  }
}
