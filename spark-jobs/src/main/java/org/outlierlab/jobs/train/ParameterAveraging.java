package org.outlierlab.jobs.train;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.outlierlab.jobs.spark.JobDescription;
import org.outlierlab.model.ModelConfig;
import org.outlierlab.model.TransformerLM;
import org.outlierlab.model.blas.BlasKernels;
import org.outlierlab.model.io.ArrayCodec;
import org.outlierlab.model.optim.FusedOps;
import org.outlierlab.model.optim.Optimizer;
import org.outlierlab.model.train.ShardStream;
import org.outlierlab.model.train.TrainData;
import org.outlierlab.model.train.TrainSettings;
import org.outlierlab.model.train.TrainStep;
import org.outlierlab.model.train.TrainingEngine;
import org.outlierlab.model.train.Worker;

/**
 * Data-parallel training by parameter averaging on Spark's RDD API (SCIENCE.md §3.3). Each round the driver
 * broadcasts the parameters and optimiser state; every worker, one Spark task, loads them into the model it keeps
 * between rounds and trains the round's global steps on its own share of the rows (rows i with i mod W = w, in a
 * batch order drawn from seed + w); the driver then averages the parameters, and the optimiser state by the
 * optimiser's own rule ({@link Optimizer#averaged}). Results are summed in worker order, so a run is reproducible
 * bit for bit, and one worker gives exactly the single-process run. A round is a pure function of its broadcast,
 * so Spark may rerun a failed task without changing anything.
 */
final class ParameterAveraging implements TrainingEngine {
  /** What every worker needs to build its model, optimiser and data (shipped once per round in the closure). */
  record WorkerSpec(String runKey, ModelConfig model, String dtype, TrainSettings settings,
      TrainConfig.OptimizerSpec optimizer, int workers, String blasKernels) implements Serializable {}

  /** A round's broadcast: the state to start from and the steps to train. */
  record RoundInput(long round, long from, long to, Set<String> capture, Map<String, byte[]> params,
      Map<String, byte[]> optimizerState) implements Serializable {}

  /** One worker's round: its state after the round, per-step figures, and what it ran on. */
  record RoundResult(int worker, Map<String, byte[]> params, Map<String, byte[]> optimizerState, double[] losses,
      double[] lrs, double[] gradNorms, Map<String, byte[]> activations, String diverged, String backend,
      double seconds) implements Serializable {}

  /** Test hook: the first attempt of every task of this round fails (in local mode the tasks share this JVM). */
  static volatile long failFirstAttemptOfRound = -1;

  private final JavaSparkContext sc;
  private final WorkerSpec spec;
  private final long frequency;
  private final TransformerLM model;
  private final Optimizer optimizer;
  private long round;
  private double workerSeconds;
  private double roundSeconds;
  /** Where the rounds' time went, outside the workers' training: [broadcast, Spark job, averaging]. */
  private final double[] phaseSeconds = new double[3];
  private String backends = "";
  private String blas = "";

  ParameterAveraging(JavaSparkContext sc, WorkerSpec spec, long frequency, TransformerLM model, Optimizer optimizer) {
    this.sc = sc;
    this.spec = spec;
    this.frequency = frequency;
    this.model = model;
    this.optimizer = optimizer;
  }

  /**
   * Builds every worker (data share, model) and reports where each runs; fails early, naming the fix, when a
   * worker cannot load ND4J's backend or the configuration would not fit its off-heap memory.
   */
  List<String> startWorkers() {
    WorkerSpec s = spec;
    List<String[]> started;
    try (JobDescription described = JobDescription.of(sc.sc(),
        "train " + spec.settings().runId() + ": start " + spec.workers() + " workers")) {
      started = sc.parallelize(workerIndices(), spec.workers())
          .map(w -> new String[] {WorkerSlot.of(s, w).describe(), BlasKernels.current().orElseThrow().describe()})
          .collect();
    }
    List<String> where = started.stream().map(d -> d[0]).toList();
    backends = String.join("; ", where);
    blas = String.join("; ", started.stream().map(d -> d[1]).distinct().toList()); // one entry unless nodes differ
    return where;
  }

  @Override
  public List<TrainStep.Result> train(long from, long to, Set<String> capture) {
    long started = System.nanoTime();
    // A LinkedHashSet keeps the sites in graph order, so snapshot files list their rows in the same order every run
    // (Set.copyOf's iteration order changes from JVM to JVM).
    Broadcast<RoundInput> input = sc.broadcast(new RoundInput(round, from, to, new java.util.LinkedHashSet<>(capture),
        ArrayCodec.encode(model.parameters()), ArrayCodec.encode(optimizer.state())));
    long broadcast = System.nanoTime();
    WorkerSpec s = spec;
    List<RoundResult> results;
    try (JobDescription described = JobDescription.of(sc.sc(), String.format(Locale.ROOT,
        "train %s: round %d, steps %d-%d on %d workers", spec.settings().runId(), round, from, to - 1, spec.workers()))) {
      results = sc.parallelize(workerIndices(), spec.workers()).map(w -> runRound(s, input.value(), w)).collect();
    } finally {
      input.destroy();
    }
    long collected = System.nanoTime();
    for (RoundResult r : results) {
      if (r.diverged() != null) {
        throw new TrainStep.DivergedException("worker " + r.worker() + ": " + r.diverged());
      }
    }
    model.loadParameters(average(results, RoundResult::params));
    optimizer.loadState(optimizer.averaged(sum(results, RoundResult::optimizerState), results.size()));
    round++;
    long averaged = System.nanoTime();
    workerSeconds += results.stream().mapToDouble(RoundResult::seconds).max().orElse(0);
    roundSeconds += (averaged - started) / 1e9;
    phaseSeconds[0] += (broadcast - started) / 1e9;
    phaseSeconds[1] += (collected - broadcast) / 1e9;
    phaseSeconds[2] += (averaged - collected) / 1e9;
    return perStep(results, from, to);
  }

  /** Seconds the rounds took beyond their slowest worker's training: broadcast, scheduling, averaging. */
  double averagingOverheadSeconds() {
    return roundSeconds - workerSeconds;
  }

  /** The overhead's parts: encoding and broadcasting the state, the Spark jobs beyond the workers' training, averaging. */
  String overheadBreakdown() {
    return String.format(Locale.ROOT, "broadcast %.1f s, Spark jobs %.1f s beyond the workers' %.1f s of training, "
        + "averaging %.1f s", phaseSeconds[0], phaseSeconds[1] - workerSeconds, workerSeconds, phaseSeconds[2]);
  }

  long rounds() {
    return round;
  }

  String backends() {
    return backends;
  }

  /** The BLAS paths the workers run on: one unless the executors' CPUs differ. */
  String blas() {
    return blas;
  }

  @Override
  public long maxStepsPerCall() {
    return frequency;
  }

  @Override
  public int workers() {
    return spec.workers();
  }

  @Override
  public int[][] firstWorkerInputs(long step) {
    WorkerSpec s = spec;
    try (JobDescription described = JobDescription.of(sc.sc(),
        "train " + spec.settings().runId() + ": worker 0's batch at step " + step)) {
      return sc.parallelize(List.of(0), 1).map(w -> WorkerSlot.of(s, w).worker.firstWorkerInputs(step)).collect().get(0);
    }
  }

  private List<Integer> workerIndices() {
    return IntStream.range(0, spec.workers()).boxed().toList();
  }

  /** The task: this worker's round from the broadcast state. */
  private static RoundResult runRound(WorkerSpec spec, RoundInput in, int w) {
    if (in.round() == failFirstAttemptOfRound && TaskContext.get() != null && TaskContext.get().attemptNumber() == 0) {
      throw new IllegalStateException("injected failure of worker " + w + " in round " + in.round());
    }
    WorkerSlot slot = WorkerSlot.of(spec, w);
    synchronized (slot) {
      slot.model.loadParameters(ArrayCodec.decode(in.params()));
      slot.optimizer.loadState(ArrayCodec.decode(in.optimizerState()));
      long start = System.nanoTime();
      List<TrainStep.Result> steps;
      try {
        steps = slot.worker.train(in.from(), in.to(), w == 0 ? in.capture() : Set.of());
      } catch (TrainStep.DivergedException e) {
        return new RoundResult(w, Map.of(), Map.of(), null, null, null, Map.of(), e.getMessage(), slot.describe(), 0);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      return new RoundResult(w, ArrayCodec.encode(slot.model.parameters()), ArrayCodec.encode(slot.optimizer.state()),
          steps.stream().mapToDouble(TrainStep.Result::loss).toArray(),
          steps.stream().mapToDouble(TrainStep.Result::lr).toArray(),
          steps.stream().mapToDouble(TrainStep.Result::gradNorm).toArray(),
          ArrayCodec.encode(steps.get(0).activations()), null, slot.describe(), seconds);
    }
  }

  /** Mean loss and gradient norm over the workers per step; the activations of worker 0's first step. */
  static List<TrainStep.Result> perStep(List<RoundResult> results, long from, long to) {
    List<TrainStep.Result> out = new ArrayList<>();
    for (int i = 0; i < to - from; i++) {
      final int k = i;
      double loss = results.stream().mapToDouble(r -> r.losses()[k]).sum() / results.size();
      double gradNorm = results.stream().mapToDouble(r -> r.gradNorms()[k]).sum() / results.size();
      Map<String, INDArray> activations = k == 0 ? ArrayCodec.decode(results.get(0).activations()) : Map.of();
      out.add(new TrainStep.Result(from + k, loss, results.get(0).lrs()[k], gradNorm, activations));
    }
    return out;
  }

  static Map<String, INDArray> average(List<RoundResult> results,
      java.util.function.Function<RoundResult, Map<String, byte[]>> part) {
    Map<String, INDArray> sum = sum(results, part);
    sum.values().forEach(a -> a.divi(results.size()));
    return sum;
  }

  /** Entry-by-entry sums, added in worker order (floating-point addition is not associative). */
  static Map<String, INDArray> sum(List<RoundResult> results,
      java.util.function.Function<RoundResult, Map<String, byte[]>> part) {
    Map<String, INDArray> sum = ArrayCodec.decode(part.apply(results.get(0)));
    for (RoundResult r : results.subList(1, results.size())) {
      ArrayCodec.decode(part.apply(r)).forEach((name, a) -> sum.get(name).addi(a));
    }
    return sum;
  }

  /** A worker's model, optimiser and data, kept in its executor between rounds (rebuilt if the executor is new). */
  static final class WorkerSlot {
    private static final Map<String, WorkerSlot> SLOTS = new ConcurrentHashMap<>();
    final TransformerLM model;
    final Optimizer optimizer;
    final Worker worker;
    private final String description;

    private WorkerSlot(WorkerSpec spec, int w) {
      ShardStream batches;
      try {
        batches = TrainData.stream(spec.settings(), spec.model().seqLen(), spec.workers(), w, new Configuration());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      model = new TransformerLM(spec.model(), DataType.valueOf(spec.dtype()), spec.settings().seed());
      optimizer = spec.optimizer().create();
      worker = new Worker(model, optimizer, spec.settings(), batches);
      long window = spec.settings().shuffleWindow();
      description = String.format(Locale.ROOT,
          "worker %d: %s on %s, %s, batch split over %d threads, %s, %d training rows, shuffle window %s", w,
          Nd4jBackend.describe(), Nd4jBackend.hostName(), BlasKernels.current().orElseThrow().describe(),
          model.threads(),
          FusedOps.simd() ? "SIMD parameter updates" : "ND4J parameter updates (SIMD needs the JVM option "
              + "--add-modules=jdk.incubator.vector)", batches.rows(), window == 0 ? "all rows" : window + " rows");
    }

    static WorkerSlot of(WorkerSpec spec, int w) {
      Nd4jBackend.require(spec.blasKernels()); // this executor's BLAS, for its own CPU, before ND4J loads
      SLOTS.keySet().removeIf(k -> !k.startsWith(spec.runKey() + "/")); // another run's workers: let them go
      WorkerSlot slot = SLOTS.computeIfAbsent(spec.runKey() + "/" + w, k -> new WorkerSlot(spec, w));
      MemoryCheck.require(spec.model(), spec.settings().batchSize(), DataType.valueOf(spec.dtype()),
          slot.model.threads(), SLOTS.size());
      return slot;
    }

    String describe() {
      return description;
    }
  }
}
