package org.outlierlab.jobs.metrics;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueType;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.outlierlab.model.run.RunLayout;

/** What the metrics need to know of a run from its config.conf: seq_len (null if not recorded), fixed probes. */
record RunFacts(Integer seqLen, boolean fixedProbe) implements java.io.Serializable {

  /** Each run's facts, by run_id (the run directory's name); runs without a config.conf are left out. */
  static Map<String, RunFacts> of(List<String> snapshotDirs, Configuration conf) throws IOException {
    Map<String, RunFacts> out = new LinkedHashMap<>();
    for (String dir : snapshotDirs) {
      Path run = new Path(dir).getParent();
      Path file = new RunLayout(run.toString()).config();
      FileSystem fs = file.getFileSystem(conf);
      if (!fs.exists(file)) {
        continue;
      }
      try (var in = new InputStreamReader(fs.open(file), StandardCharsets.UTF_8)) {
        Config runConfig = ConfigFactory.parseReader(in);
        boolean known = runConfig.hasPath("model.seq_len")
            && runConfig.getValue("model.seq_len").valueType() == ConfigValueType.NUMBER;
        boolean fixed = runConfig.hasPath("train.probe_inputs") && runConfig.getString("train.probe_inputs").equals("fixed");
        out.put(run.getName(), new RunFacts(known ? runConfig.getInt("model.seq_len") : null, fixed));
      }
    }
    return out;
  }
}
