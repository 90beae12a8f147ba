import { Reflector } from '@nestjs/core';

/**
 * Marks a provider as a security event sink: Palisade finds it through dependency injection and
 * hands it every event. The class implements `SecurityEventHandler`.
 *
 * @example
 * \@SecurityEventSink() \@Injectable() export class SiemSink implements SecurityEventHandler { handle(e) { … } }
 */
export const SecurityEventSink = Reflector.createDecorator<void, true>({ transform: () => true });
