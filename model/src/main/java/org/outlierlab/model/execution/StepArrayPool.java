package org.outlierlab.model.execution;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.memory.AbstractMemoryMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The memory manager of the training pass: every array one forward-backward pass allocates is handed out again,
 * by exact data type and shape, in the next pass.
 *
 * <p>Why: M2.1's SameDiff never releases an array during gradient calculation, so its own cache stays empty and
 * each training step allocated about a gigabyte of fresh off-heap memory (573 arrays for the 4×256 benchmark
 * model), freed only when the Java GC ran. Allocating and first-touching that memory took as long as all the
 * ops together. A step's arrays are the same from step to step, so recycling them whole at the step boundary
 * removes the cost without tracking lifetimes inside a pass.
 *
 * <p>The contract: arrays from pass N (including the gradients and activations the pass returns) are valid only
 * until {@link #startPass} is called for pass N+1.
 */
final class StepArrayPool extends AbstractMemoryMgr {
  private record Key(DataType type, char order, List<Long> shape) {
    static Key of(DataType type, char order, long[] shape) {
      return new Key(type, order, Arrays.stream(shape).boxed().toList());
    }
  }

  /** Arrays that the previous pass allocated, ready to be handed out again. */
  private final Map<Key, ArrayDeque<INDArray>> free = new HashMap<>();
  /** Arrays handed out in the current pass. */
  private final List<INDArray> inUse = new ArrayList<>();

  /**
   * Makes this thread's gradient session of {@code sd} allocate from this pool, and starts a pass: everything the
   * previous pass allocated may be reused.
   */
  void startPass(SameDiff sd) {
    SameDiff gradient = sd.getFunction("grad"); // SameDiff.GRAD_FN_KEY, built by GraphBuilder.createGradientsQuietly
    InferenceSession session = gradient.getSessions()
        .computeIfAbsent(Thread.currentThread().getId(), id -> new InferenceSession(gradient));
    if (session.getMmgr() != this) {
      session.setMmgr(this);
    }
    for (INDArray a : inUse) {
      free.computeIfAbsent(Key.of(a.dataType(), a.ordering(), a.shape()), k -> new ArrayDeque<>()).add(a);
    }
    inUse.clear();
  }

  @Override
  public INDArray allocate(boolean detached, DataType type, long... shape) {
    return allocate(type, 'c', shape);
  }

  @Override
  public INDArray allocate(boolean detached, LongShapeDescriptor descriptor) {
    if (descriptor.isEmpty()) {
      return Nd4j.create(descriptor).detach();
    }
    return allocate(descriptor.dataType(), descriptor.getOrder(), descriptor.getShape());
  }

  private INDArray allocate(DataType type, char order, long[] shape) {
    ArrayDeque<INDArray> candidates = free.get(Key.of(type, order, shape));
    INDArray a = candidates == null || candidates.isEmpty()
        ? Nd4j.createUninitializedDetached(type, order, shape) : candidates.poll();
    inUse.add(a);
    return a;
  }

  /** SameDiff never calls this during training; an array released early simply waits for the next pass. */
  @Override
  public void release(INDArray array) {}

  @Override
  public void close() {
    free.clear();
    inUse.clear();
  }
}
