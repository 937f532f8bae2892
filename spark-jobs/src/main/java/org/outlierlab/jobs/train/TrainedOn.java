package org.outlierlab.jobs.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.model.run.RunLayout;

/**
 * The tokens a run is trained on: their data-prep manifest, copied into the run directory when it starts, and
 * compared on --resume, since resuming on other data (another tokenizer, other sequences) would quietly train a
 * different run from its checkpoint.
 */
final class TrainedOn {
  /** What must be the same when a run resumes: the tokenizer, and the sequences the batches are drawn from. */
  private static final List<String> FIELDS =
      List.of("/tokenizer/sha256", "/vocab_size", "/row_length", "/sequences", "/tokens");
  private static final ObjectMapper JSON = new ObjectMapper();

  private TrainedOn() {}

  /**
   * Records the manifest of a new run (or of a resumed one that has none, trained before runs recorded it); fails,
   * before any training, when a resumed run's tokens are not those it started on.
   */
  static void recordOrCheck(JsonNode manifest, String tokensDir, String runId, RunLayout files, boolean resume,
      FileSystem fs) throws IOException {
    Path record = files.tokensManifest();
    if (resume && fs.exists(record)) {
      JsonNode recorded;
      try (InputStream in = fs.open(record)) {
        recorded = JSON.readTree(in);
      }
      for (String field : FIELDS) {
        if (!recorded.at(field).equals(manifest.at(field))) {
          throw new ConfigError("train.tokens = '" + tokensDir + "' is not the data run " + runId + " was trained on:"
              + " its " + field.substring(1).replace('/', '.') + " is " + manifest.at(field) + ", the run's is "
              + recorded.at(field) + " (" + record + "); resume with the tokens the run started on (data-prep's"
              + " out was " + recorded.at("/config/out") + "), or train a new run on these");
        }
      }
      return;
    }
    fs.mkdirs(record.getParent());
    try (OutputStream out = fs.create(record, true)) {
      JSON.writerWithDefaultPrettyPrinter().writeValue(out, manifest);
    }
  }
}
