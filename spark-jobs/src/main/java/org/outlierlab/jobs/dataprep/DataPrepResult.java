package org.outlierlab.jobs.dataprep;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the data-prep job wrote: the output directory, its documents and tokens, the sequences of each split and the
 * bad records of each kind (as in its manifest), and how long it took (in all, and tokenising summed over tasks).
 */
public record DataPrepResult(String out, long documents, long tokens, Map<String, Long> sequences,
    Map<String, Long> badRecords, double seconds, double tokenizeSeconds) {
  public DataPrepResult {
    sequences = Collections.unmodifiableMap(new TreeMap<>(sequences));
    badRecords = Collections.unmodifiableMap(new TreeMap<>(badRecords));
  }

  /** The lines the job ends with. */
  public List<String> summary() {
    ObjectMapper json = new ObjectMapper(); // the counts as the manifest writes them: {"train":12,"validation":3}
    return List.of(
        "data-prep: wrote " + out + " (" + documents + " documents, " + tokens + " tokens, sequences "
            + json.valueToTree(sequences) + ", bad records " + json.valueToTree(badRecords) + ")",
        String.format(Locale.ROOT, "data-prep: done in %.2f s (%.0f tokens/s; tokenising alone %.0f tokens/s per core)",
            seconds, tokens / seconds, tokens / tokenizeSeconds));
  }
}
