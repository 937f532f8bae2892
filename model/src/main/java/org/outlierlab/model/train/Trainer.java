package org.outlierlab.model.train;

import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.outlierlab.dataprep.Splits;
import org.outlierlab.model.TransformerLM;
import org.outlierlab.model.graph.Site;
import org.outlierlab.model.optim.Optimizer;
import org.outlierlab.model.run.Alarms;
import org.outlierlab.model.run.Checkpoint;
import org.outlierlab.model.run.RunLayout;
import org.outlierlab.model.run.Snapshots;
import org.outlierlab.model.run.TrainLog;

/**
 * A training run over data-prep's token shards, driven step range by step range through a {@link TrainingEngine}
 * (one process, or workers whose parameters are averaged): snapshots from the training forward pass at the
 * configured steps, train_log rows, periodic evaluation and checkpoints that resume exactly. A diverged run
 * stops with its last good checkpoint kept. At snapshot steps the {@link OutlierAlarm} checks the captured
 * activations; with action stop, a raised alarm ends the run with a checkpoint of the state whose activations
 * raised it. The model and optimiser given here hold the run's state between calls.
 *
 * <p>What it writes in the run directory: {@link RunLayout#checkpoints}, {@link RunLayout#snapshots},
 * {@link RunLayout#trainLog}, {@link RunLayout#alarms}.
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

  /**
   * What a finished run reports: {@code steps} trained from {@code firstStep}; {@code outliers}: the outlier
   * alarm stopped it after {@code steps}, where its last checkpoint is.
   */
  public record Summary(long firstStep, long steps, double lastLoss, double lastValLoss, double seconds,
      boolean outliers) {}

  /** Trains in this process on the whole train split, from step 0 or (with {@code resume}) the latest checkpoint. */
  public Summary run(boolean resume) throws IOException {
    return run(resume, new Worker(model, optimizer, s, TrainData.stream(s, model.config().seqLen(), 1, 0, conf)));
  }

  /** Trains through {@code engine}, from step 0 or (with {@code resume}) the latest checkpoint. */
  public Summary run(boolean resume, TrainingEngine engine) throws IOException {
    int t = model.config().seqLen();
    int[][] validation = TrainData.read(s.tokensDir(), Splits.VALIDATION, t, conf);
    if (validation.length < s.batchSize()) { // the evaluations below are skipped: train_log's val_loss stays null
      progress.accept("no validation loss in this run: the validation split of " + s.tokensDir() + " has "
          + validation.length + " sequences, fewer than train.batch_size = " + s.batchSize()
          + " (data-prep's validation_fraction sets its size)");
    }
    Set<String> capture = captureSites();
    Set<String> absent = new java.util.TreeSet<>(s.snapshotSites());
    model.sites().forEach(site -> absent.remove(Site.kind(site)));
    if (!absent.isEmpty() && s.hasSnapshots()) {
      progress.accept("snapshots hold no " + String.join(", ", absent) + ": this model has no such site (norm_* need"
          + " a norm before attention or the MLP, mlp_preact needs model.alpha)");
    }
    long start = 0;
    RunLayout files = new RunLayout(s.runDir());
    Path checkpoints = files.checkpoints();
    OutlierAlarm alarm = new OutlierAlarm(s.alarm(), s.runId(), model.config().nLayers(), s.probe(), s::snapshotAt);
    if (resume) {
      var latest = Checkpoint.latest(checkpoints, conf);
      if (latest.isPresent()) {
        model.loadParameters(latest.get().params());
        optimizer.loadState(latest.get().optimizerState());
        start = latest.get().step();
        progress.accept("resuming from the checkpoint at step " + start);
        String noReference = alarm.resume(start, latest.get().extras());
        if (noReference != null) {
          progress.accept(noReference);
        }
      }
    }
    if (start == 0 && model.config().hasAlpha()) {
      model.initAlpha(engine.firstWorkerInputs(0)); // then frozen, and saved with the checkpoints
    }
    double tokensPerStep = (double) engine.workers() * s.batchSize() * t;
    TrainLog log = new TrainLog(files.trainLog(), conf);
    long runStart = System.nanoTime();
    long windowStart = runStart;
    long windowSteps = 0;
    double lastLoss = Double.NaN;
    double lastValLoss = Double.NaN;
    for (long from = start; from < s.steps(); ) {
      long to = nextBoundary(from, engine.maxStepsPerCall());
      boolean snapshot = s.snapshotAt(from);
      if (snapshot && s.fixedProbe()) { // the same validation sequences every time, from the model before step `from`
        Map<String, INDArray> activations = model.activations(probeInputs(validation, t), capture);
        Snapshots.write(s.runId(), from, activations, s.probe(), model.config().nLayers(), files.snapshots(), conf);
        if (raise(alarm.check(from, activations), files) && alarm.stops()) {
          return stop(checkpoint(from, false, alarm), log, start, lastLoss, lastValLoss, runStart);
        }
      }
      // with action stop, the state the batch's activations come from, kept until they are checked
      Checkpoint beforeSnapshot = snapshot && !s.fixedProbe() && alarm.stops() ? checkpoint(from, true, alarm) : null;
      long callStart = System.nanoTime();
      List<TrainStep.Result> results = engine.train(from, to, snapshot && !s.fixedProbe() ? capture : Set.of());
      long callEnd = System.nanoTime();
      for (int i = 0; i < results.size(); i++) {
        TrainStep.Result r = results.get(i);
        if (!r.activations().isEmpty()) {
          Snapshots.write(s.runId(), r.step(), r.activations(), s.probe(), model.config().nLayers(), files.snapshots(),
              conf);
          if (raise(alarm.check(r.step(), r.activations()), files) && alarm.stops()) {
            return stop(beforeSnapshot, log, start, lastLoss, lastValLoss, runStart);
          }
        }
        // a round's steps arrive together: each is timed at its share of the round
        long now = callStart + (callEnd - callStart) * (i + 1) / results.size();
        long completed = r.step() + 1;
        lastLoss = r.loss();
        windowSteps++;
        boolean evaluate = completed == to && evaluatesAt(completed) && validation.length >= s.batchSize();
        double valLoss = evaluate ? evaluate(validation, t) : Double.NaN;
        if (evaluate) {
          lastValLoss = valLoss;
          now = System.nanoTime();
        }
        if (TrainSettings.every(s.logInterval(), completed) || evaluate || completed == s.steps()) {
          double tokensPerS = windowSteps * tokensPerStep / ((now - windowStart) / 1e9);
          double wall = (now - runStart) / 1e9;
          log.add(new TrainLog.Row(s.runId(), r.step(), r.loss(), r.lr(), r.gradNorm(), tokensPerS, wall, valLoss));
          progress.accept(line(completed, r, tokensPerS, wall, start, valLoss));
          windowStart = now;
          windowSteps = 0;
        }
      }
      if (TrainSettings.every(s.checkpointInterval(), to) || to == s.steps()) {
        log.flush();
        checkpoint(to, false, alarm).saveTo(checkpoints, conf);
      }
      from = to;
    }
    log.flush();
    return new Summary(start, s.steps(), lastLoss, lastValLoss, (System.nanoTime() - runStart) / 1e9, false);
  }

  /** The run's state before step {@code step}: the model's own arrays, or (with {@code copy}) copies of them. */
  private Checkpoint checkpoint(long step, boolean copy, OutlierAlarm alarm) {
    Map<String, String> extras = new java.util.LinkedHashMap<>(
        Map.of("seed", Long.toString(s.seed()), "batches_consumed", Long.toString(step)));
    extras.putAll(alarm.references());
    return new Checkpoint(step, copy ? copies(model.parameters()) : model.parameters(),
        copy ? copies(optimizer.state()) : optimizer.state(), extras);
  }

  private static Map<String, INDArray> copies(Map<String, INDArray> arrays) {
    Map<String, INDArray> out = new java.util.LinkedHashMap<>();
    arrays.forEach((name, a) -> out.put(name, a.dup()));
    return out;
  }

  /** Writes the raised alarms' rows and warnings; whether there were any. */
  private boolean raise(List<OutlierAlarm.Raised> raised, RunLayout files) throws IOException {
    if (raised.isEmpty()) {
      return false;
    }
    Alarms.write(raised.stream().map(OutlierAlarm.Raised::row).toList(), files.alarms(), conf);
    raised.forEach(a -> progress.accept(a.warning()));
    return true;
  }

  /**
   * Ends the run at the alarm's step: the train_log rows before it, and {@code state}, the checkpoint whose
   * activations raised the alarm, so that a resume repeats that step exactly.
   */
  private Summary stop(Checkpoint state, TrainLog log, long start, double lastLoss, double lastValLoss,
      long runStart) throws IOException {
    log.flush();
    state.saveTo(new RunLayout(s.runDir()).checkpoints(), conf);
    progress.accept("outlier alarm: run " + s.runId() + " stopped at step " + state.step() + " (train.alarm.action ="
        + " stop), its checkpoint at step " + state.step() + " kept; --resume with --alarm.action warn (or off, or"
        + " other thresholds) continues it from there");
    return new Summary(start, state.step(), lastLoss, lastValLoss, (System.nanoTime() - runStart) / 1e9, true);
  }

  private int[][] probeInputs(int[][] validation, int t) {
    if (validation.length < s.probe()) {
      throw new IllegalArgumentException("train.probe_inputs = fixed needs train.probe = " + s.probe()
          + " validation sequences; the validation split of " + s.tokensDir() + " has " + validation.length);
    }
    return TrainData.slice(java.util.Arrays.copyOf(validation, s.probe()), 0, t);
  }

  private boolean evaluatesAt(long completed) {
    return TrainSettings.every(s.evalInterval(), completed) || completed == s.steps();
  }

  /**
   * Where the step range starting at {@code from} must end: at most {@code maxSteps} later, and wherever the
   * run needs the (averaged) model: before a snapshot step (captured as the first step of a range), after an
   * evaluation or a checkpoint, at the end. A pure function of {@code from}, so a resumed run takes the same ranges.
   */
  long nextBoundary(long from, long maxSteps) {
    long to = Math.min(s.steps(), from + Math.min(maxSteps, s.steps()));
    for (long completed = from + 1; completed < to; completed++) {
      if (s.snapshotAt(completed) || evaluatesAt(completed) || TrainSettings.every(s.checkpointInterval(), completed)) {
        return completed;
      }
    }
    return to;
  }

  private Set<String> captureSites() {
    Set<String> sites = new LinkedHashSet<>();
    for (String site : model.sites()) {
      String kind = Site.kind(site);
      boolean layerWanted = s.snapshotLayers().isEmpty()
          || s.snapshotLayers().contains(Site.layer(site, model.config().nLayers()));
      if (layerWanted
          && (s.snapshotSites().contains(kind) || (s.snapshotAttentionEntropy() && kind.equals("attn_probs")))) {
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
      int[][] rows = java.util.Arrays.copyOfRange(validation, k * s.batchSize(), (k + 1) * s.batchSize());
      sum += model.loss(TrainData.slice(rows, 0, t), TrainData.slice(rows, 1, t));
    }
    return sum / batches;
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
