package org.outlierlab.model.train;

import java.io.Serializable;
import java.util.Set;
import org.outlierlab.model.optim.LrSchedule;

/**
 * How a run trains (the CLI reads these from {@code train.*}; conf/defaults.conf documents each).
 *
 * @param snapshotSteps steps whose forward pass is captured, in addition to every {@code snapshotInterval}
 * @param snapshotWindow every step in this range is captured too (the App D decomposition needs consecutive steps)
 * @param probe how many sequences of a captured batch go into the snapshot
 * @param snapshotSites the kinds of site captured ({@link org.outlierlab.model.run.Snapshots#SITES}), each at every layer that has it
 * @param snapshotLayers the layers captured (unembed_in's is the number of layers); empty: every layer
 * @param fixedProbe capture the first {@code probe} validation sequences at every snapshot step (a forward pass
 *     without gradient), instead of the training batch: the same inputs each time, as the App D decomposition needs
 * @param shuffleWindow training rows shuffled together, read shard by shard ({@link ShardStream}; 0: the whole split)
 * @param threads threads each worker's training step uses, its batch split among them
 *     ({@link org.outlierlab.model.TransformerLM#useThreads}); 0 until the job resolves "auto"
 * @param alarm the outlier alarm checked at snapshot steps ({@link OutlierAlarm})
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
    StepRange snapshotWindow,
    int probe,
    Set<String> snapshotSites,
    Set<Integer> snapshotLayers,
    boolean snapshotAttentionEntropy,
    boolean fixedProbe,
    long shuffleWindow,
    int threads,
    AlarmSettings alarm)
    implements Serializable {

  /**
   * Settings by name, every one not given at the default conf/defaults.conf gives it (threads: 1; the schedule:
   * train.lr's 1e-3 warmed up over 5% of the steps, then decayed linearly to 0 at the last step).
   */
  public static TrainSettingsBuilder builder(String runId, String runDir, String tokensDir) {
    return new TrainSettingsBuilder(runId, runDir, tokensDir);
  }

  /** These settings as a builder, to change some of them by name. */
  public TrainSettingsBuilder toBuilder() {
    return new TrainSettingsBuilder(this);
  }

  /** Steps {@code from} to {@code to}, both included; empty when {@code to < from}. */
  public record StepRange(long from, long to) implements Serializable {
    public static final StepRange NONE = new StepRange(0, -1);

    public boolean contains(long step) {
      return from <= step && step <= to;
    }

    public boolean isEmpty() {
      return to < from;
    }
  }

  boolean snapshotAt(long step) {
    return snapshotSteps.contains(step) || (snapshotInterval > 0 && step % snapshotInterval == 0)
        || snapshotWindow.contains(step);
  }

  boolean hasSnapshots() {
    return snapshotInterval > 0 || !snapshotSteps.isEmpty() || !snapshotWindow.isEmpty();
  }

  static boolean every(long interval, long completed) {
    return interval > 0 && completed % interval == 0;
  }
}
