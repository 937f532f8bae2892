package org.outlierlab.model.train;

import java.io.Serializable;
import java.util.Set;
import org.outlierlab.model.optim.LrSchedule;

/**
 * How a run trains (the CLI reads these from {@code train.*}; conf/defaults.conf documents each).
 *
 * @param snapshotSteps steps whose forward pass is captured, in addition to every {@code snapshotInterval}
 * @param probe how many sequences of a captured batch go into the snapshot
 */
public record TrainSettings(
    String runId,
    String runDir,
    String tokensDir,
    int batchSize,
    long steps,
    long seed,
    LrSchedule schedule,
    double clipNorm,
    long logInterval,
    long evalInterval,
    int evalBatches,
    long checkpointInterval,
    Set<Long> snapshotSteps,
    long snapshotInterval,
    int probe,
    boolean snapshotMlpIn,
    boolean snapshotAttentionEntropy)
    implements Serializable {

  boolean snapshotAt(long step) {
    return snapshotSteps.contains(step) || (snapshotInterval > 0 && step % snapshotInterval == 0);
  }

  static boolean every(long interval, long completed) {
    return interval > 0 && completed % interval == 0;
  }
}
