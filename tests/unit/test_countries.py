"""Countries however they are written: `bot.countries.find` and `normalize` (here), and the Rasa
component `bot.rasa.nlu.countries.CountryExtractor` (checked in the Rasa venv itself, like
tests/unit/test_rasa_patches.py)."""

import json
import re
import textwrap

import pytest
import yaml

from bot import countries
from bot.countries import LOCATION
from bot.text import fold
from tests.conftest import ROOT
from tests.rasa_venv import run_in_rasa


def slugs(text: str) -> list[tuple[str, str | None]]:
    return [(m.slug, m.role) for m in countries.find(text)]


# One mention each, no role: spellings, abbreviations, nicknames, demonyms, cities, regions, typos.
VARIANTS = [
    ("E.E.U.U.", "eeuu"), ("EE.UU", "eeuu"), ("EE. UU.", "eeuu"), ("EE UU", "eeuu"), ("EEUU", "eeuu"), ("eeuuu", "eeuu"),
    ("U.S.A.", "eeuu"), ("USA", "eeuu"), ("quiero ir a usa", "eeuu"), ("Estados Unidos", "eeuu"),
    ("quiero ir a estados unidso", "eeuu"), ("me voy a los yunaites", "eeuu"), ("gringolandia", "eeuu"),
    ("trabajar con los gringos", "eeuu"), ("visa para estadounidenses", "eeuu"), ("los norteamericanos pagan bien", "eeuu"),
    ("mi hermano vive en NY", "eeuu"), ("en NJ hay trabajo", "eeuu"), ("me mudo a LA.", "eeuu"), ("Nueva Jersey", "eeuu"),
    ("la Florida", "eeuu"), ("California", "eeuu"), ("Texas", "eeuu"), ("Miami", "eeuu"), ("el sueño americano", "eeuu"),
    ("España", "espana"), ("espana", "espana"), ("ESPAÑA", "espana"), ("espanha", "espana"), ("Barna", "espana"),
    ("Barcelona", "espana"), ("Madrid", "espana"), ("Comunidad de Madrid", "espana"), ("País Vasco", "espana"),
    ("Cataluña", "espana"), ("cataluna", "espana"), ("Andalucía", "espana"), ("una empresa española", "espana"),
    ("donde los españoles", "espana"), ("Córdoba, España", "espana"), ("Córdoba (España)", "espana"), ("Tenerife", "espana"),
    ("Italia", "italia"), ("itaia", "italia"), ("quiero ir a italya", "italia"), ("Milán", "italia"), ("milano", "italia"),
    ("Roma", "italia"), ("Lombardía", "italia"), ("Lacio", "italia"), ("vivir en el Lacio", "italia"), ("Piamonte", "italia"),
    ("Toscana", "italia"), ("trabajar donde los tanos", "italia"), ("los italianos", "italia"), ("Génova", "italia"),
    ("Chile", "chile"), ("chlie", "chile"), ("donde los chilenos", "chile"), ("Santiago", "chile"),
    ("Santiago de Chile", "chile"), ("stgo", "chile"), ("valpo", "chile"), ("Región Metropolitana", "chile"),
    ("Antofagasta", "chile"), ("Viña del Mar", "chile"), ("Santiago, Chile", "chile"),
    ("Argentina", "argentina"), ("argentna", "argentina"), ("argentinaa", "argentina"), ("bs as", "argentina"),
    ("Bs. As.", "argentina"), ("baires", "argentina"), ("Buenos Aires", "argentina"), ("buenos aries", "argentina"),
    ("Mendoza", "argentina"), ("Córdoba", "argentina"), ("Patagonia", "argentina"), ("ir a La Plata", "argentina"),
    ("los argentinos", "argentina"), ("Mendoza, Argentina", "argentina"),
    ("Japón", "japon"), ("japon", "japon"), ("Canadá", "canada"), ("canada", "canada"), ("Colombia", "colombia"),
    ("Ecuador", "ecuador"), ("Bolivia", "bolivia"), ("Venezuela", "venezuela"), ("Brasil", "brasil"), ("brazil", "brasil"),
    ("soy brasilero", "brasil"), ("sao pablo", "brasil"), ("México", "mexico"), ("mejico", "mexico"), ("Inglaterra", "reino-unido"),
    ("Alemanía", "alemania"), ("Corea del Sur", "corea-del-sur"),
    ("Perú", "peru"), ("Lima", "peru"), ("Arequipa", "peru"), ("Cuzco", "peru"), ("el consulado del Perú", "peru"),
]


@pytest.mark.parametrize(("text", "slug"), VARIANTS)
def test_every_way_of_writing_a_country(text, slug):
    assert slugs(text) == [(slug, None)]


# Ambiguous names and look-alikes: no country at all.
NOT_COUNTRIES = [
    "PERÚ INFOMIGRA", "Bienvenido a PERÚ INFOMIGRA, ¿en qué te ayudo?", "me voy a LA el lunes", "ESTOY EN LA CASA",
    "la mitad de la plata", "no tengo la plata", "me salta un error", "pelo lacio", "el alto costo de vida",
    "la empresa usa el sistema", "contact us", "hablo español", "clases de inglés", "un gringo me ayudó",
    "los gallegos", "rezo el rosario", "me quito la chompa", "chiste", "toma", "rama", "limpia", "limpiar",
    "me llamo Rosario Mendoza", "mi hija Florencia", "Santiago Quispe me ayudó", "el señor Mendoza",
    "mi correo es ana.lima@gmail.com", "los niños chillan", "compré un huacho de la lotería", "médico",
    "triste", "casada", "cansada", "correa", "espina", "semilla", "hospitales", "legales", "copiado",
    "como familia estamos unidos", "sin Diego no voy", "es un país vasto", "me compré un nuevo jersey", "entre ricos y pobres",
]


@pytest.mark.parametrize("text", NOT_COUNTRIES)
def test_look_alikes_are_not_countries(text):
    assert countries.find(text) == []


# Where the person is ("location") and where they want to go (no role), in one message.
ROLES = [
    ("estoy en chile y quiero ir a españa", [("chile", LOCATION), ("espana", None)]),
    ("vivo en Buenos Aires y quiero irme a Italia", [("argentina", LOCATION), ("italia", None)]),
    ("trabajo en Nueva York y pago social security", [("eeuu", LOCATION)]),
    ("busco trabajo en Chile", [("chile", None)]),
    ("te escribo desde Lima", [("peru", LOCATION)]),
    ("aquí en Madrid hace frío", [("espana", LOCATION)]),
    ("acá en Santiago todo es caro", [("chile", LOCATION)]),
    ("llevo más de 10 años en Italia", [("italia", LOCATION)]),
    ("vivo hace dos años en EE.UU. y quiero volver", [("eeuu", LOCATION)]),
    ("estamos en los yunaites", [("eeuu", LOCATION)]),
    ("me encuentro en Milán, Italia", [("italia", LOCATION)]),
    ("vivo en Córdoba (España) desde 2019", [("espana", LOCATION)]),
    ("estudio en Roma", [("italia", LOCATION)]),
    ("el estudio en Roma es caro", [("italia", None)]),
    ("ya no vivo en Chile", [("chile", None)]),
    ("no me encuentro en Chile", [("chile", None)]),
    ("no, vivo en Chile", [("chile", LOCATION)]),
    ("mi hermano vive en Italia", [("italia", None)]),
    ("vivo en espña", [("espana", LOCATION)]),
    ("vivo en LA y quiero ir a Chile", [("eeuu", LOCATION), ("chile", None)]),
    ("quiero ir a Chile desde el Perú", [("chile", None), ("peru", LOCATION)]),
    ("soy venezolano, vivo en Lima y quiero ir a Chile", [("venezuela", None), ("peru", LOCATION), ("chile", None)]),
    ("mi hija Florencia vive conmigo en Florencia", [("italia", None)]),
    ("quiero ir a EE.UU, a Miami", [("eeuu", None), ("eeuu", None)]),
]


@pytest.mark.parametrize(("text", "expected"), ROLES)
def test_where_the_person_is_and_where_they_go(text, expected):
    assert slugs(text) == expected


def test_mentions_point_at_the_text_as_written():
    text = "Hola! Vivo en Córdoba (España) y mi primo quiere ir a E.E.U.U. o a itaia"
    mentions = countries.find(text)
    assert [m.surface for m in mentions] == ["Córdoba (España)", "E.E.U.U.", "itaia"]
    assert all(text[m.start:m.end] == m.surface for m in mentions)
    assert [m.confidence == 1.0 for m in mentions] == [True, True, False]
    decomposed = "vivo en Espan\u0303a"  # "ñ" written as n + combining tilde
    assert [(m.slug, m.surface) for m in countries.find(decomposed)] == [("espana", "Espan\u0303a")]


def test_normalize_maps_one_country_however_written():
    assert countries.normalize("EEUU") == "eeuu"
    assert countries.normalize("espana") == "espana"
    assert countries.normalize("E.E.U.U.") == "eeuu"
    assert countries.normalize("itaia") == "italia"
    assert countries.normalize("Córdoba, España") == "espana"
    assert countries.normalize("otro país") == countries.OTHER
    for value in (None, "", "Narnia", "quiero ir a chile", "Chile y Argentina"):
        assert countries.normalize(value) is None, value


def surfaces_of(block_key: str) -> dict[str, list[str]]:
    data = yaml.safe_load((ROOT / "data/nlu/paises.yml").read_text(encoding="utf-8"))
    return {b[block_key]: [ln.strip()[2:] for ln in b["examples"].splitlines() if ln.strip()]
            for b in data["nlu"] if block_key in b}


def test_the_lookup_and_the_synonyms_are_one_list():
    lookup = surfaces_of("lookup")["country"]
    synonyms = surfaces_of("synonym")
    assert set(synonyms) <= set(countries.NAMES)
    assert sorted(lookup) == sorted(s for surfaces in synonyms.values() for s in surfaces)
    assert len(lookup) == len(set(lookup))


def test_words_kept_from_fuzzy_matching_are_not_names():
    names = {fold(s).replace("ñ", "n") for surfaces in surfaces_of("synonym").values() for s in surfaces}
    assert not {w.replace("ñ", "n") for w in countries._NOT_PLACES} & names


def test_every_annotated_country_in_the_nlu_data_is_found():
    annotation = re.compile(r"\[([^\]]+)\]\(country\)")
    missed = []
    for path in sorted([*(ROOT / "data/nlu").glob("*.yml"), *(ROOT / "tests/nlu").glob("*.yml")]):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            for line in block.get("examples", "").splitlines() if "intent" in block else []:
                line = line.strip()[2:]
                plain, expected, pos = "", [], 0
                for m in annotation.finditer(line):
                    plain += line[pos:m.start()]
                    expected.append((len(plain), len(plain) + len(m.group(1)), countries.normalize(m.group(1))))
                    plain += m.group(1)
                    pos = m.end()
                plain = re.sub(r"\[([^\]]+)\]\(\w+\)", r"\1", plain + line[pos:])
                found = countries.find(plain)
                for start, end, slug in expected:
                    if not any(m.start <= start and end <= m.end and m.slug == slug for m in found):
                        missed.append((path.name, plain, plain[start:end]))
    assert not missed, missed


# Ordinary messages about work, papers, family and money, with no country in them: not one may
# come out as a country (short Spanish words near a name, first names that are places, e-mails).
ORDINARY = """
hola buenos días, quisiera información sobre trabajo
buenas tardes, necesito ayuda con mi contrato
mi jefe no me paga las horas extras desde hace tres meses
trabajo de lunes a sábado y no me dan vacaciones
me despidieron sin aviso, qué puedo hacer
cuánto es el sueldo mínimo ahora
quiero saber si me corresponde gratificación en julio
no tengo contrato escrito, solo verbal, es legal
me hacen firmar recibos en blanco, eso está bien
trabajo en una fábrica de textiles y hace mucho calor
trabajo en construcción y no me dan casco ni botas
busco trabajo de cocinero, tengo experiencia
quiero postular a una oferta de empleo que vi en internet
cómo hago mi currículum para una empresa grande
me ofrecen un puesto de vigilante pero el horario es muy largo
la empresa quiere que trabaje domingos sin pago extra
tengo un accidente de trabajo y no me quieren pagar el seguro
me lastimé la espalda cargando cajas en el almacén
me corté la mano con una máquina en la planta
quiero denunciar a mi empleador por acoso
mi supervisor me grita todos los días
me descuentan por llegar cinco minutos tarde
trabajo como empleada del hogar y me pagan muy poco
la señora de la casa no me deja salir los domingos
me deben la liquidación de dos años de trabajo
cuánto me toca de compensación por tiempo de servicios
quiero retirar mi CTS para comprar una casa
no sé si estoy en planilla o no
cómo sé si mi empleador me aporta a la AFP
me pasaron a recibos por honorarios, me conviene
hago delivery en moto y no tengo seguro
trabajo en el campo cosechando uva
soy chofer de camión y manejo doce horas al día
me ofrecieron trabajo en una mina, es seguro
quiero trabajar de enfermera, qué necesito
necesito un certificado de trabajo para mi nuevo empleo
mi contrato vence el próximo mes y no me dicen nada
me renovaron el contrato por tres meses más
quiero renunciar, cuántos días de aviso tengo que dar
me obligaron a firmar mi renuncia
tengo derecho a utilidades si trabajo en una empresa pequeña
el sindicato convocó a una huelga para el lunes
me pagan en efectivo y sin boleta
quiero formalizar mi negocio de costura
cómo saco mi RUC para trabajar independiente
la chamba está dura, no encuentro nada
estoy buscando chamba de lo que sea
mi pata me consiguió un trabajo de mozo
trabajo de noche en un restaurante y salgo muy tarde
me hacen limpiar los baños sin guantes
la empresa cerró y nadie nos pagó
cuánto tiempo tengo para reclamar mis beneficios
dónde queda la oficina del ministerio para hacer una consulta
puedo hacer una denuncia por internet
el inspector de trabajo vino pero no hizo nada
me dieron de baja sin explicación
trabajo medio tiempo, tengo derecho a vacaciones
estoy de licencia por maternidad y me quieren despedir
me negaron el descanso médico
el médico me dio cinco días de descanso
tengo una reunión con recursos humanos mañana
quiero aprender un oficio, hay cursos gratuitos
me interesa un curso de soldadura
hay becas para estudiar computación
quiero certificar mis competencias laborales
me pidieron antecedentes penales para el trabajo
dónde saco mi certificado de antecedentes policiales
me piden experiencia pero recién termino de estudiar
cómo me preparo para una entrevista de trabajo
me llamaron para una entrevista el jueves
la entrevista fue por videollamada y me fue bien
no me contestaron después de la entrevista
trabajo en una panadería desde las cuatro de la mañana
mi turno es rotativo y no puedo descansar bien
quiero cambiar de trabajo pero tengo miedo
en mi trabajo no hay baño para mujeres
me hacen trabajar con fiebre
no me dejan ir al médico en horario de trabajo
mi compañero tuvo un accidente y la empresa lo ocultó
mi jefe se queda con las propinas
quiero sacar mi pasaporte, cuánto cuesta
cuánto demora el trámite del pasaporte electrónico
se me venció el pasaporte, qué hago
perdí mi DNI, cómo saco un duplicado
necesito apostillar mi título universitario
dónde legalizo mis documentos
cómo traduzco mi partida de nacimiento
me piden una traducción oficial de mis certificados
qué visa necesito para trabajar afuera
me negaron la visa de turista
tengo una oferta de trabajo con contrato, qué visa pido
cuánto tiempo demora la visa de trabajo
me piden una carta de invitación para el consulado
tengo cita en el consulado la próxima semana
el consulado no contesta el teléfono
quiero renovar mi permiso de residencia
mi permiso de trabajo vence en dos meses
puedo trabajar con visa de estudiante
cómo regularizo mi situación migratoria
estoy sin papeles y tengo miedo de que me deporten
me quitaron el pasaporte en el trabajo, es legal
el empleador se quedó con mis documentos
me ofrecieron un trabajo afuera pero me piden dinero por adelantado
me prometieron papeles si pago dos mil dólares
una agencia me cobra por conseguirme visa, es confiable
cómo sé si una agencia de empleo es formal
me piden depositar a una cuenta para reservar el puesto
me escribieron por redes sociales ofreciendo trabajo fácil
creo que es una estafa, a quién aviso
quiero validar mi título de enfermería
cómo homologo mi título de ingeniero
necesito el certificado de estudios de secundaria
dónde pido mi récord de notas
quiero hacer el trámite de la doble nacionalidad
mi hijo nació afuera, cómo lo inscribo
cómo inscribo a mi bebé en el registro civil
necesito la partida de matrimonio apostillada
me casé afuera, cómo registro mi matrimonio
quiero divorciarme pero mi esposo vive lejos
qué es el registro de migrantes y para qué sirve
cómo me inscribo en el registro consular
se puede votar desde afuera
me cambiaron de domicilio, tengo que actualizar algo
mi carnet de extranjería está vencido
perdí mi carnet y necesito uno nuevo
cuánto cuesta el trámite y dónde pago
la página del trámite no carga
me salta un error cuando subo el archivo
no puedo ingresar a la plataforma, me pide una clave
olvidé mi contraseña, cómo la recupero
el formulario no acepta mi número de documento
subí mis documentos pero no me llega la confirmación
cuánto demora la respuesta del trámite
me rechazaron la solicitud por una foto
la foto tiene que ser con fondo blanco
necesito una constancia para mi empleador
me pidieron un certificado de salud
dónde me vacuno contra la fiebre amarilla
qué vacunas necesito para viajar
tengo que sacar seguro de viaje
cuántas maletas puedo llevar en el avión
el pasaje está muy caro este mes
quiero comprar un pasaje de ida y vuelta
me cancelaron el vuelo y no me devuelven el dinero
perdí mi conexión en el aeropuerto
mi maleta se perdió en el viaje
mi esposa está embarazada y quiero estar con ella
mis hijos se quedaron con su abuela
quiero traer a mi familia conmigo
cómo hago la reunificación familiar
mi mamá está enferma y quiero volver a verla
mi papá falleció y no pude viajar al entierro
mi hija quiere estudiar en la universidad
mi hijo tiene problemas en el colegio
extraño mucho a mis hijos
hablo con mi familia por videollamada todos los días
mi esposo no me manda dinero para los niños
quiero pedir pensión de alimentos para mis hijos
mi expareja no quiere dar permiso de viaje para el menor
cómo saco el permiso notarial de viaje para mi hijo
mi hermana me quiere llevar a trabajar con ella
mi hermano tiene un negocio y me ofrece trabajo
mi prima me dijo que allá pagan mejor
mi cuñada me prestó dinero para el pasaje
mi suegra cuida a mis hijos mientras trabajo
mi abuela cumple noventa años y quiero ir
estamos casados hace diez años
me casé el año pasado y mi esposa no tiene papeles
mi novio me pidió que me vaya con él
tengo miedo de dejar a mis hijos solos
mi familia depende de lo que yo mando
cuando vuelva quiero poner un negocio con mi familia
mis padres ya están mayores y necesitan cuidado
mi hijo menor tiene una discapacidad
hay ayuda para familias de migrantes
mi esposa quiere trabajar pero no tiene permiso
mi hija se casó y se fue lejos
los niños están tristes porque no estoy
me siento muy solo lejos de mi gente
mi pareja me maltrata y no sé a quién acudir
mi vecina me ayuda con los niños
los chicos están de vacaciones y no sé con quién dejarlos
quiero que mis hijos estudien en un buen colegio
mi hijo mayor ya trabaja y me ayuda
mi esposo está callado y no quiere hablar del tema
estoy cansada de trabajar tanto
mi cuñada está casada con un ingeniero
mi amiga está cansada de esperar los papeles
la familia de mi esposo no me acepta
mi sobrino quiere viajar solo, es menor de edad
mi nieta nació la semana pasada
quiero mandar plata a mi familia, cuál es la forma más barata
cuánto cobran por enviar dinero
me cobraron una comisión muy alta por la transferencia
cómo abro una cuenta de ahorros
el banco me pide muchos requisitos
quiero pedir un préstamo para mi negocio
me endeudé con una tarjeta de crédito
no puedo pagar mis deudas, qué hago
cómo ahorro para comprar una casa
quiero invertir mis ahorros en un terreno
hay créditos para vivienda para los que vuelven
cuánto cuesta alquilar un cuarto
el alquiler subió y no me alcanza
me quedé sin plata a fin de mes
la mitad de la plata se va en el alquiler
no tengo la plata para el pasaje
mi sueldo no alcanza para nada
me pagan por quincena y siempre se atrasan
cuánto me descuentan de impuestos
tengo que declarar mis ingresos
cómo saco mi clave para pagar impuestos
me llegó una multa y no sé por qué
tengo ahorros en otra moneda, cómo los cambio
el tipo de cambio está muy alto
quiero abrir una cuenta en dólares
me estafaron por internet y perdí mis ahorros
alguien usó mi tarjeta sin permiso
me robaron la billetera con todo el dinero
cómo reporto una tarjeta robada
puedo cobrar mi pensión desde otro lugar
cuántos años tengo que aportar para jubilarme
quiero saber cuánto tengo en mi fondo de pensiones
me conviene la ONP o la AFP
puedo juntar mis aportes de diferentes trabajos
cuánto voy a cobrar de jubilación
quiero retirar el dinero de mi fondo
me cobraron dos veces el mismo pago
el cajero se tragó mi tarjeta
mi cuenta está bloqueada
no me llega el depósito del sueldo
cuánto cuesta mantener una cuenta
pagué la matrícula de mi hijo con tarjeta
hay bonos del gobierno para familias pobres
quiero un crédito para comprar una moto
la tasa de interés es muy alta
vendí mi carro para pagar el viaje
me prestaron dinero con intereses altísimos
no tengo para pagar la luz y el agua
estoy juntando plata para traer a mis hijos
me descontaron el seguro pero no tengo atención
no tengo seguro de salud, dónde me atiendo
me duele la espina dorsal desde hace semanas
el doctor me mandó hacer análisis
tengo que operarme y no tengo dinero
me siento triste y no duermo bien
necesito hablar con un psicólogo
hay atención gratuita para migrantes
me dio covid y no pude trabajar
estoy embarazada y no tengo control prenatal
mi bebé necesita vacunas
tuve un accidente de tránsito
hay un número de emergencia para llamar
me amenazaron en la calle
me siento en peligro, necesito ayuda urgente
una persona me retiene y no me deja salir
me quitaron el celular y no puedo comunicarme
creo que es trata de personas
quiero denunciar a una red que engaña a chicas
la policía no quiso recibir mi denuncia
necesito un abogado gratuito
cómo pongo una queja contra una institución
quiero dejar una sugerencia para mejorar el servicio
el servicio fue muy bueno, gracias
no me ayudaron, quiero hablar con una persona
quiero hablar con un asesor
a qué hora atienden
atienden los fines de semana
cuál es el horario de atención
me pueden llamar por teléfono
mi número es nueve ocho siete seis cinco cuatro tres dos uno
mi correo es carmen.rojas@outlook.com
escríbanme a pedro.huaman@gmail.com por favor
pueden enviarme la información por correo
gracias por la ayuda
muchas gracias, muy amable
ok entendido
sí, por favor
no, gracias
no entendí, me puede explicar otra vez
qué significa eso
puede repetir la respuesta
volver al menú
quiero empezar de nuevo
chau, hasta luego
adiós y gracias
buenas noches
hola, cómo estás
todo bien por aquí, gracias
jaja qué buen chiste
no me toma en serio mi jefe
toma nota de mi número
el árbol tiene una rama rota
limpia bien la cocina antes de irte
el mueble está limpio
hay una espina en la rosa
quiero vivir en paz con mi familia
busco la paz y la tranquilidad
el alto costo de vida me preocupa
uno de los tantos problemas es el transporte
rezo el rosario todas las noches con mi mamá
la empresa usa un sistema nuevo
se usa el formulario azul para eso
mi hijo me pidió un chicle
le puse sal al salero
hay una huella en la puerta
tengo un corte en la mano y me pusieron una correa
cortaron la luz toda la tarde
el jabón se acabó
compré jamón y queso para el desayuno
la campaña de vacunación empieza el lunes
el hospital está lleno
los hospitales públicos no tienen camas
la semilla no germinó
te hablo con franqueza
eso requiere valentía
los documentos legales están en la carpeta
le copié el documento y lo envié
esto es un copiado del original
mi hija habla inglés y español
estoy aprendiendo inglés por internet
hablo español y un poco de francés
me gusta la comida china
salgo a correr por la mañana
el hielo está muy frío
no tengo tiempo para nada
la junta de vecinos es el martes
voy a cantar en la iglesia el domingo
la cena está lista
la casa está muy lejos del trabajo
vivo en un cuarto alquilado
vivo con mis tíos
estoy en casa de mi hermana
trabajo en lo que salga
estoy en el trabajo, le escribo después
vivo aquí desde hace cinco años
estoy aquí desde el lunes
desde ayer no tengo agua
trabajo desde casa
aquí en la empresa nadie sabe nada
acá en el barrio hay mucha inseguridad
estoy en una situación difícil
estoy en el hospital con mi hijo
vivo en un edificio viejo
llevo dos años en la misma empresa
sigo en el mismo trabajo
ando en la calle buscando chamba
me encuentro en una situación complicada
la plata no me alcanza
EL SUELDO NO ME ALCANZA, NECESITO AYUDA
NECESITO SABER LA DIRECCIÓN DE LA OFICINA
QUIERO HABLAR CON UN ASESOR POR FAVOR
AYUDA, ME ROBARON LOS DOCUMENTOS
me llamo Rosario y necesito ayuda con mi pensión
mi hija Florencia quiere estudiar enfermería
el señor Mendoza es mi jefe
mi hijo Santiago cumple cinco años
Santiago Quispe me recomendó este servicio
la licenciada Victoria me atendió muy bien
hablé con la señora Concepción en la ventanilla
el ingeniero Trujillo no me quiere pagar
mi amiga Virginia me pasó el dato
q tal, xq no me responden
pa cuándo sale mi trámite
tb quiero saber lo de la pensión
nose q hacer, ayudenme
ola, kiero info sobre la chamba
graxias x todo
ya fue, mejor mañana pregunto
no hay problema, espero
el trámite tarda demasiado y estoy cansado
el pago llegó incompleto
me depositaron menos de lo acordado
trabajé tres semanas sin descanso
me pagan menos que a mis compañeros
me dieron una carta de despido
firmé un documento que no entendí
no sé leer bien, me pueden ayudar
quiero estudiar una carrera técnica
mi título está en trámite
la universidad no me entrega el diploma
perdí el certificado de mi colegio
necesito una copia legalizada
me sellaron mal el documento
quiero poner una tienda de abarrotes
tengo un pequeño taller de carpintería
vendo comida en la feria los domingos
quiero exportar artesanías
cómo registro mi marca
el municipio me cerró el puesto
hay ferias de empleo este mes
me inscribí en la bolsa de trabajo
la agencia me pidió mis datos bancarios
recibí un mensaje sospechoso con un enlace
no abras enlaces de desconocidos
el correo decía que gané un premio
me piden mi clave del banco por teléfono
"""


def test_ordinary_sentences_mention_no_country():
    sentences = [line for line in ORDINARY.splitlines() if line.strip()]
    assert len(sentences) >= 300
    wrong = {s: slugs(s) for s in sentences if countries.find(s)}
    assert not wrong, wrong


# The component in the Rasa venv: the config snippet builds a pipeline with it; on a message it
# drops the `country` entities of other extractors and adds its own (slug, span, role, extractor).
SCRIPT = textwrap.dedent('''
    import json
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe
    from rasa.shared.data import TrainingType
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from bot.rasa.nlu.countries import CountryExtractor

    config = {"recipe": "default.v1", "language": "es", "policies": [], "pipeline": [
        {"name": "WhitespaceTokenizer"}, {"name": "RegexEntityExtractor"},
        {"name": "bot.rasa.nlu.countries.CountryExtractor"}, {"name": "EntitySynonymMapper"}]}
    graph = DefaultV1Recipe().graph_config_for_recipe(config, {}, TrainingType.NLU)
    nodes = [n for n in graph.predict_schema.nodes.values() if n.uses is CountryExtractor]
    trained = [n for n in graph.train_schema.nodes.values() if n.uses is CountryExtractor]
    component = CountryExtractor.load({}, None, None, ExecutionContext(GraphSchema({}), "test"))
    message = Message.build(text="estoy en chile y quiero ir a E.E.U.U.")
    message.set("entities", [{"entity": "country", "start": 9, "end": 14, "value": "chile", "extractor": "RegexEntityExtractor"},
                             {"entity": "language", "start": 0, "end": 37, "value": "es"}], add_to_output=True)
    button = Message.build(text='/informar_pais{"country":"chile"}')
    plain = Message.build(text="hola, quiero informacion")
    component.process([message, button, plain])
    data = TrainingData([Message.build(text="[Chile](country)")])
    print(json.dumps({"nodes": [n.fn for n in nodes], "trained": len(trained), "entities": message.get("entities"),
                      "button": button.get("entities"), "plain": plain.get("entities"),
                      "training_data": component.process_training_data(data) is data}))
''')


def test_the_rasa_component_replaces_other_country_entities():
    out = json.loads(run_in_rasa(SCRIPT, timeout=180).strip().splitlines()[-1])
    assert out["nodes"] == ["process"] and out["trained"] == 0
    assert out["entities"] == [
        {"entity": "language", "start": 0, "end": 37, "value": "es"},
        {"entity": "country", "start": 9, "end": 14, "value": "chile", "confidence": 1.0, "role": "location",
         "extractor": "CountryExtractor"},
        {"entity": "country", "start": 29, "end": 37, "value": "eeuu", "confidence": 1.0, "extractor": "CountryExtractor"},
    ]
    assert out["button"] is None  # "/intent{...}" is left to Rasa's RegexMessageHandler
    assert out["plain"] == []
    assert out["training_data"] is True
