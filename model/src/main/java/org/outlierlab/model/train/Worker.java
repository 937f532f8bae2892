package org.outlierlab.model.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.outlierlab.model.TransformerLM;
import org.outlierlab.model.optim.Optimizer;

/**
 * Trains a model on its stream of batches: global step k uses the stream's batch k. As a {@link TrainingEngine} it is
 * the single-process trainer (worker 0 of 1); the Spark job runs one per worker, each with its part of every step.
 */
public final class Worker implements TrainingEngine {
  private final TransformerLM model;
  private final TrainStep trainStep;
  private final ShardStream batches;
  private final int probe;

  /** Also sets the model to train on {@code settings.threads()} threads (at least one). */
  public Worker(TransformerLM model, Optimizer optimizer, TrainSettings settings, ShardStream batches) {
    this.model = model;
    model.useThreads(Math.max(1, settings.threads()));
    this.trainStep = new TrainStep(model, optimizer, settings.schedule(), settings.clipNorm());
    this.batches = batches;
    this.probe = settings.probe();
  }

  @Override
  public List<TrainStep.Result> train(long from, long to, Set<String> capture) {
    int t = model.config().seqLen();
    List<TrainStep.Result> results = new ArrayList<>();
    for (long step = from; step < to; step++) {
      int[][] rows = batches.batch(step);
      TrainStep.Result r = trainStep.run(step, TrainData.slice(rows, 0, t), TrainData.slice(rows, 1, t),
          step == from ? capture : Set.of());
      // the pass's arrays are reused by the next step: keep copies of the probe sequences only
      results.add(new TrainStep.Result(r.step(), r.loss(), r.lr(), r.gradNorm(), probeCopy(r.activations())));
    }
    return results;
  }

  private Map<String, INDArray> probeCopy(Map<String, INDArray> activations) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    activations.forEach((site, a) -> {
      INDArrayIndex[] first = new INDArrayIndex[a.rank()];
      java.util.Arrays.fill(first, NDArrayIndex.all());
      first[0] = NDArrayIndex.interval(0, Math.min(probe, a.size(0)));
      out.put(site, a.get(first).dup('c'));
    });
    return out;
  }

  @Override
  public long maxStepsPerCall() {
    return 1; // one process has nothing to average: step by step, so progress and logs stay live
  }

  @Override
  public int workers() {
    return 1;
  }

  @Override
  public int[][] firstWorkerInputs(long step) {
    return TrainData.slice(batches.batch(step), 0, model.config().seqLen());
  }
}
