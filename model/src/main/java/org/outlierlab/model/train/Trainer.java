package org.outlierlab.model.train;

import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.outlierlab.dataprep.Splits;
import org.outlierlab.dataprep.shard.TokenShards;
import org.outlierlab.model.Checkpoint;
import org.outlierlab.model.TrainStep;
import org.outlierlab.model.TransformerLM;
import org.outlierlab.model.optim.Optimizer;

/**
 * A single-process training run over data-prep's token shards: batches in an order drawn from the seed,
 * snapshots from the training forward pass at the configured steps, train_log rows, periodic evaluation and
 * checkpoints that resume exactly. A diverged run stops with its last good checkpoint kept.
 *
 * <p>Run directory: {@code checkpoints/}, {@code snapshots/}, {@code train_log/}.
 */
public final class Trainer {
  private final TransformerLM model;
  private final Optimizer optimizer;
  private final TrainSettings s;
  private final Configuration conf;
  private final Consumer<String> progress;

  public Trainer(TransformerLM model, Optimizer optimizer, TrainSettings settings, Configuration conf,
      Consumer<String> progress) {
    this.model = model;
    this.optimizer = optimizer;
    this.s = settings;
    this.conf = conf;
    this.progress = progress;
  }

  /** What a finished run reports. */
  public record Summary(long firstStep, long steps, double lastLoss, double lastValLoss, double seconds) {}

  /** Trains from step 0, or from the latest checkpoint when {@code resume} is set and one exists. */
  public Summary run(boolean resume) throws IOException {
    int t = model.config().seqLen();
    int[][] train = rows(Splits.TRAIN, t);
    int[][] validation = rows(Splits.VALIDATION, t);
    long start = 0;
    Path checkpoints = new Path(s.runDir(), "checkpoints");
    if (resume) {
      var latest = Checkpoint.latest(checkpoints, conf);
      if (latest.isPresent()) {
        model.loadParameters(latest.get().params());
        optimizer.loadState(latest.get().optimizerState());
        start = latest.get().step();
        progress.accept("resuming from the checkpoint at step " + start);
      }
    }
    BatchOrder order = new BatchOrder(train.length, s.batchSize(), s.seed());
    if (start == 0 && model.config().alphaScaling()) {
      model.calibrateAlpha(slice(train, order.batch(0), 0, t)); // then frozen, and saved with the checkpoints
    }
    TrainStep trainStep = new TrainStep(model, optimizer, s.schedule(), s.clipNorm());
    TrainLog log = new TrainLog(new Path(s.runDir(), "train_log"), conf);
    long runStart = System.nanoTime();
    long windowStart = runStart;
    long windowSteps = 0;
    double lastLoss = Double.NaN;
    double lastValLoss = Double.NaN;
    for (long step = start; step < s.steps(); step++) {
      int[] ids = order.batch(step);
      boolean capture = s.snapshotAt(step);
      TrainStep.Result r = trainStep.run(step, slice(train, ids, 0, t), slice(train, ids, 1, t),
          capture ? captureSites() : Set.of());
      lastLoss = r.loss();
      windowSteps++;
      if (capture) {
        Snapshots.write(s.runId(), step, r.activations(), s.probe(), model.config().nLayers(),
            new Path(s.runDir(), "snapshots"), conf);
      }
      long completed = step + 1;
      boolean evaluate = validation.length >= s.batchSize()
          && (TrainSettings.every(s.evalInterval(), completed) || completed == s.steps());
      double valLoss = evaluate ? evaluate(validation, t) : Double.NaN;
      if (evaluate) {
        lastValLoss = valLoss;
      }
      if (TrainSettings.every(s.logInterval(), completed) || evaluate || completed == s.steps()) {
        long now = System.nanoTime();
        double tokensPerS = windowSteps * (double) s.batchSize() * t / ((now - windowStart) / 1e9);
        double wall = (now - runStart) / 1e9;
        log.add(new TrainLog.Row(s.runId(), step, r.loss(), r.lr(), r.gradNorm(), tokensPerS, wall, valLoss));
        progress.accept(line(completed, r, tokensPerS, wall, start, valLoss));
        windowStart = now;
        windowSteps = 0;
      }
      if (TrainSettings.every(s.checkpointInterval(), completed) || completed == s.steps()) {
        log.flush();
        new Checkpoint(completed, model.parameters(), optimizer.state(),
            Map.of("seed", Long.toString(s.seed()), "batches_consumed", Long.toString(completed)))
            .saveTo(checkpoints, conf);
      }
    }
    log.flush();
    return new Summary(start, s.steps(), lastLoss, lastValLoss, (System.nanoTime() - runStart) / 1e9);
  }

  private Set<String> captureSites() {
    Set<String> sites = new LinkedHashSet<>();
    for (String site : model.sites()) {
      boolean wanted = site.startsWith("resid_attn_in_") || site.equals("unembed_in")
          || (s.snapshotMlpIn() && site.startsWith("resid_mlp_in_"))
          || (s.snapshotAttentionEntropy() && site.startsWith("attn_probs_"));
      if (wanted) {
        sites.add(site);
      }
    }
    return sites;
  }

  /** Mean loss over the first {@code evalBatches} batches of the validation split, in order. */
  private double evaluate(int[][] validation, int t) {
    int batches = Math.min(s.evalBatches(), validation.length / s.batchSize());
    double sum = 0;
    for (int k = 0; k < batches; k++) {
      int[] ids = new int[s.batchSize()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = k * s.batchSize() + i;
      }
      sum += model.loss(slice(validation, ids, 0, t), slice(validation, ids, 1, t));
    }
    return sum / batches;
  }

  private int[][] rows(String split, int t) throws IOException {
    int[][] rows = TokenShards.read(s.tokensDir(), split, conf);
    for (int[] row : rows) {
      if (row.length != t + 1) {
        throw new IllegalArgumentException("the shards in " + s.tokensDir() + " hold rows of " + row.length
            + " tokens; a model with model.seq_len = " + t + " needs rows of " + (t + 1)
            + " (inputs and next-token targets): set model.seq_len to " + (row.length - 1));
      }
    }
    return rows;
  }

  /** Tokens [offset, offset + t) of the given rows: offset 0 gives inputs, 1 the next-token targets. */
  private static int[][] slice(int[][] rows, int[] ids, int offset, int t) {
    int[][] out = new int[ids.length][];
    for (int i = 0; i < ids.length; i++) {
      out[i] = java.util.Arrays.copyOfRange(rows[ids[i]], offset, offset + t);
    }
    return out;
  }

  private String line(long completed, TrainStep.Result r, double tokensPerS, double wall, long start, double valLoss) {
    double perStep = wall / Math.max(1, completed - start);
    String eta = formatSeconds(perStep * (s.steps() - completed));
    String val = Double.isNaN(valLoss) ? "" : String.format(Locale.ROOT, " | val loss %.4f ppl %.2f", valLoss, Math.exp(valLoss));
    return String.format(Locale.ROOT, "step %d/%d | loss %.4f | lr %.2e | grad norm %.3f | %.0f tokens/s | ETA %s%s",
        completed, s.steps(), r.loss(), r.lr(), r.gradNorm(), tokensPerS, eta, val);
  }

  private static String formatSeconds(double seconds) {
    long total = Math.round(seconds);
    return total >= 3600 ? String.format("%dh%02dm", total / 3600, total / 60 % 60)
        : total >= 60 ? String.format("%dm%02ds", total / 60, total % 60) : total + "s";
  }
}
