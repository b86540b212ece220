"""Built-in tone profiles, as plain data (the shape ``ToneProfile.from_dict`` accepts).

Each locale is written the way a good support agent from that market writes, not translated
word for word: Traditional Chinese polite (您), Japanese business keigo, Latin-American
Spanish warm and on first-name terms (tú), French and German formal (vous, Sie), Brazilian
Portuguese (você). Sentences never promise a policy: only KB passages state policy.
"""

from __future__ import annotations

from typing import Any

PROFILE_DATA: dict[str, dict[str, Any]] = {
    "en": {
        "greeting": "Hi {name},",
        "greeting_anonymous": "Hi there,",
        "acknowledgements": {
            "angry": "I'm really sorry about this. I understand how frustrating it is, "
            "and I want to get it sorted for you.",
            "anxious": "Don't worry, this can be fixed, and I'll walk you through it.",
            "confused": "Thanks for asking. Let me make this as clear as I can.",
            "sad": "I'm sorry you've had to deal with this. I know it's not what you "
            "were hoping for.",
            "positive": "Thank you so much for your kind words, it really means a lot to us!",
            "neutral": "Thanks for reaching out.",
        },
        "intro_answer": "Here's what you need to know:",
        "steps_intro": "Here's how to do it, step by step:",
        "no_match": "I want to make sure you get an accurate answer, so I've passed your "
        "message to a specialist on our team, who will follow up with you shortly.",
        "follow_up_intro": "Since the steps from my previous message (“{title}”) didn't "
        "solve this, I won't repeat them here.",
        "next_steps": "If anything is still unclear, just reply to this email and we'll "
        "pick it up from there.",
        "vip_line": "As one of our priority customers, your request is being handled by "
        "our priority support team.",
        "new_user_line": "Welcome to {brand}! We're glad to have you.",
        "thanks_reply": "You're very welcome, I'm glad we could help! If anything "
        "else comes up, just reply to this email.",
        "holding_acknowledgements": {
            "anxious": "I understand this is worrying, and I'm sorry for the uncertainty.",
        },
        "other_question": "As for your other question:",
        "other_question_follow_up": "Your other question needs a closer look, so I've passed it "
        "to a colleague, who will follow up with you on it shortly.",
        "closing": "Best regards,",
        "signature": "The {brand} Support Team",
        "sources_label": "Sources:",
        "see_also": "This may help too:",
        "translation_note": "This guide isn't available in English yet, so here it is in "
        "its original language:",
    },
    "zh-Hant": {
        "greeting": "{name} 您好：",
        "greeting_anonymous": "您好：",
        "acknowledgements": {
            "angry": "造成您的困擾，我們深感抱歉，會盡快協助您處理。",
            "anxious": "請您放心，這個問題是可以解決的，以下為您逐步說明。",
            "confused": "感謝您的詢問，以下為您清楚說明。",
            "sad": "很遺憾您遇到這樣的情況，我們能理解您的心情。",
            "positive": "非常感謝您的肯定與支持！",
            "neutral": "感謝您與我們聯繫。",
        },
        "intro_answer": "相關說明如下：",
        "steps_intro": "請您依照以下步驟操作：",
        "no_match": "為了提供您正確的資訊，我們已將您的問題轉交專人處理，專員將盡快與您聯繫。",
        "follow_up_intro": "先前回覆中「{title}」的步驟未能解決您的問題，這裡就不再重複。",
        "next_steps": "若仍有任何疑問，歡迎直接回覆此信，我們會持續為您協助。",
        "vip_line": "您的案件已列為優先處理，將由專屬團隊為您服務。",
        "new_user_line": "歡迎使用 {brand}！剛開始使用若有不熟悉的地方，我們很樂意協助您。",
        "thanks_reply": "不客氣，很高興能幫上忙！之後若有任何問題，歡迎直接回覆此信。",
        "holding_acknowledgements": {"anxious": "我們能理解您的擔心，請您放心。"},
        "other_question": "關於您的另一個問題：",
        "other_question_follow_up": "您的另一個問題需要進一步確認，"
        "我們已轉交專人處理，專員將盡快與您聯繫。",
        "closing": "敬祝 順心",
        "signature": "{brand} 客服團隊",
        "sources_label": "參考資料：",
        "see_also": "以下資訊也可能對您有幫助：",
        "translation_note": "此篇說明目前尚無中文版本，原文如下：",
    },
    "zh-Hans": {
        "greeting": "{name}，您好！",
        "greeting_anonymous": "您好！",
        "acknowledgements": {
            "angry": "给您带来不便，我们深表歉意，会尽快为您处理。",
            "anxious": "请您放心，这个问题是可以解决的。",
            "confused": "感谢您的咨询，下面为您详细说明。",
            "sad": "很遗憾您遇到这样的情况，我们非常理解您的心情。",
            "positive": "非常感谢您的认可与支持！",
            "neutral": "感谢您联系我们。",
        },
        "intro_answer": "相关说明如下：",
        "steps_intro": "请按照以下步骤操作：",
        "no_match": "为确保给您准确的答复，我们已将您的问题转交专人处理，专员会尽快与您联系。",
        "follow_up_intro": "上次回复中“{title}”的步骤未能解决问题，这里不再重复。",
        "next_steps": "如仍有疑问，欢迎直接回复此邮件，我们会继续为您跟进。",
        "vip_line": "您的问题已列为优先处理，将由专属团队为您服务。",
        "new_user_line": "欢迎使用 {brand}！",
        "thanks_reply": "不客气，很高兴能帮到您！之后如有任何问题，欢迎直接回复此邮件。",
        "holding_acknowledgements": {"anxious": "我们理解您的担心，请您放心。"},
        "other_question": "关于您的另一个问题：",
        "other_question_follow_up": "您的另一个问题需要进一步确认，"
        "我们已转交专人处理，专员会尽快与您联系。",
        "closing": "祝好！",
        "signature": "{brand} 客服团队",
        "sources_label": "参考资料：",
        "see_also": "以下信息或许也对您有帮助：",
        "translation_note": "该说明暂无中文版本，原文如下：",
    },
    "ja": {
        "greeting": "{name} 様",
        "greeting_anonymous": "お客様",
        "acknowledgements": {
            "angry": "この度はご不便とご迷惑をおかけしており、誠に申し訳ございません。",
            "anxious": "ご心配をおかけしております。こちらは解決できる内容でございますので、"
            "どうぞご安心ください。",
            "confused": "お問い合わせいただき、誠にありがとうございます。"
            "分かりやすくご説明いたします。",
            "sad": "ご期待に沿えない状況となり、大変心苦しく存じます。",
            "positive": "温かいお言葉をいただき、誠にありがとうございます。",
            "neutral": "お問い合わせいただき、誠にありがとうございます。",
        },
        "intro_answer": "以下のとおりご案内いたします。",
        "steps_intro": "恐れ入りますが、以下の手順をお試しいただけますでしょうか。",
        "no_match": "正確な情報をお伝えするため、専門の担当者が確認のうえ、改めてご連絡いたします。"
        "恐れ入りますが、今しばらくお待ちくださいませ。",
        "follow_up_intro": "前回ご案内した「{title}」の手順では解決に至らず、大変失礼いたしました。"
        "同じ内容の繰り返しは控えさせていただきます。",
        "next_steps": "ご不明な点がございましたら、本メールにご返信いただけますと幸いです。",
        "vip_line": "お客様のお問い合わせは、優先対応チームが担当いたします。",
        "new_user_line": "{brand} をご利用いただき、誠にありがとうございます。",
        "thanks_reply": "ご丁寧にありがとうございます。お役に立てて大変うれしく存じます。"
        "今後ともお気軽にお問い合わせください。",
        "holding_acknowledgements": {"anxious": "ご心配をおかけしており、誠に申し訳ございません。"},
        "other_question": "もう一点のお問い合わせにつきましては、以下のとおりご案内いたします。",
        "other_question_follow_up": "もう一点のお問い合わせにつきましては、担当者が確認のうえ、"
        "改めてご連絡いたします。恐れ入りますが、今しばらくお待ちくださいませ。",
        "closing": "今後ともよろしくお願いいたします。",
        "signature": "{brand} カスタマーサポート",
        "sources_label": "参考資料：",
        "see_also": "あわせて、こちらもご参照いただけますと幸いです。",
        "translation_note": "恐れ入りますが、こちらの記事は日本語版がございません。"
        "原文を以下に記載いたします。",
    },
    "es": {
        "greeting": "¡Hola {name}!",
        "greeting_anonymous": "¡Hola!",
        "acknowledgements": {
            "angry": "Lamento muchísimo lo que pasó. Entiendo lo frustrante que es y quiero "
            "ayudarte a resolverlo cuanto antes.",
            "anxious": "No te preocupes, esto tiene solución y te acompaño paso a paso.",
            "confused": "¡Gracias por preguntar! Te lo explico de forma sencilla.",
            "sad": "Siento mucho que estés pasando por esto; de verdad entiendo cómo te sientes.",
            "positive": "¡Mil gracias por tus palabras! Nos alegra muchísimo leerte.",
            "neutral": "¡Gracias por escribirnos!",
        },
        "intro_answer": "Esto es lo que necesitas saber:",
        "steps_intro": "Sigue estos pasos:",
        "no_match": "Para darte una respuesta precisa, le pasé tu mensaje a una persona "
        "especialista de nuestro equipo, que te va a escribir muy pronto.",
        "follow_up_intro": "Como los pasos de mi mensaje anterior (“{title}”) no lo "
        "resolvieron, no te los voy a repetir.",
        "next_steps": "Si algo no queda claro, respóndeme a este correo y lo vemos juntos.",
        "vip_line": "Como cliente prioritario, tu caso lo está atendiendo nuestro equipo de "
        "atención preferente.",
        "new_user_line": "¡Qué gusto tenerte en {brand}!",
        "thanks_reply": "¡De nada! Qué bueno que pudimos ayudarte. Si "
        "necesitas algo más, responde a este correo.",
        "holding_acknowledgements": {"anxious": "Entiendo perfectamente tu preocupación."},
        "other_question": "Y sobre tu otra pregunta:",
        "other_question_follow_up": "Tu otra pregunta necesita una revisión más a fondo, "
        "así que se la pasé a una persona de nuestro equipo, que te va a escribir muy pronto.",
        "closing": "¡Saludos!",
        "signature": "El equipo de soporte de {brand}",
        "sources_label": "Fuentes:",
        "see_also": "Esto también te puede servir:",
        "translation_note": "Por ahora esta guía no está disponible en español, así que te "
        "la comparto en su idioma original:",
    },
    "fr": {
        "greeting": "Bonjour {name},",
        "greeting_anonymous": "Bonjour,",
        "acknowledgements": {
            "angry": "Toutes nos excuses pour ce désagrément : nous comprenons votre "
            "frustration et faisons le nécessaire au plus vite.",
            "anxious": "Rassurez-vous : cela peut se régler, et nous allons vous guider.",
            "confused": "Merci pour votre question ; voici une explication claire.",
            "sad": "Nous sommes sincèrement navrés de cette situation.",
            "positive": "Merci beaucoup pour votre message, il nous fait très plaisir !",
            "neutral": "Merci de nous avoir contactés.",
        },
        "intro_answer": "Voici ce qu'il faut savoir :",
        "steps_intro": "Voici la marche à suivre :",
        "no_match": "Afin de vous apporter une réponse exacte, nous avons transmis votre "
        "demande à un spécialiste de notre équipe, qui reviendra vers vous très rapidement.",
        "follow_up_intro": "Les étapes de notre précédent message (« {title} ») n'ayant pas "
        "suffi, nous ne les répéterons pas ici.",
        "next_steps": "Si quelque chose n'est pas clair, il vous suffit de répondre à ce message.",
        "vip_line": "En tant que client prioritaire, votre demande est prise en charge par "
        "notre équipe dédiée.",
        "new_user_line": "Bienvenue chez {brand} !",
        "thanks_reply": "Avec plaisir, ravis d'avoir pu vous aider ! Pour toute "
        "autre question, répondez simplement à cet e-mail.",
        "holding_acknowledgements": {"anxious": "Nous comprenons tout à fait votre inquiétude."},
        "other_question": "Concernant votre autre question :",
        "other_question_follow_up": "Votre autre question demande une vérification : nous l'avons "
        "transmise à un collègue, qui reviendra vers vous très rapidement.",
        "closing": "Bien cordialement,",
        "signature": "L'équipe support {brand}",
        "sources_label": "Sources :",
        "see_also": "Ceci pourrait également vous être utile :",
        "translation_note": "Ce guide n'existe pas encore en français ; le voici dans sa "
        "langue d'origine :",
    },
    "de": {
        "greeting": "Hallo {name},",
        "greeting_anonymous": "Guten Tag,",
        "acknowledgements": {
            "angry": "Das tut uns sehr leid. Wir verstehen Ihren Ärger und kümmern uns umgehend "
            "darum.",
            "anxious": "Keine Sorge, das lässt sich lösen, und wir helfen Ihnen Schritt für "
            "Schritt.",
            "confused": "Danke für Ihre Frage, hier eine verständliche Erklärung.",
            "sad": "Es tut uns leid, dass Sie das erleben müssen.",
            "positive": "Vielen Dank für Ihre freundlichen Worte, das freut uns sehr!",
            "neutral": "Vielen Dank für Ihre Nachricht.",
        },
        "intro_answer": "Das Wichtigste im Überblick:",
        "steps_intro": "So gehen Sie vor:",
        "no_match": "Damit Sie eine verlässliche Antwort erhalten, haben wir Ihre Anfrage an "
        "unser Fachteam weitergeleitet, das sich in Kürze bei Ihnen meldet.",
        "follow_up_intro": "Da die Schritte aus unserer letzten Nachricht („{title}“) nicht "
        "geholfen haben, wiederholen wir sie hier nicht.",
        "next_steps": "Falls noch etwas unklar ist, antworten Sie einfach auf diese E-Mail.",
        "vip_line": "Ihre Anfrage wird bevorzugt von unserem Prioritäts-Team bearbeitet.",
        "new_user_line": "Herzlich willkommen bei {brand}!",
        "thanks_reply": "Gern geschehen, schön, dass wir helfen konnten! Bei weiteren "
        "Fragen antworten Sie einfach auf diese E-Mail.",
        "holding_acknowledgements": {"anxious": "Wir verstehen Ihre Sorge sehr gut."},
        "other_question": "Zu Ihrer weiteren Frage:",
        "other_question_follow_up": "Ihre weitere Frage sehen wir uns genauer an: Ein Kollege "
        "aus unserem Team meldet sich dazu in Kürze bei Ihnen.",
        "closing": "Viele Grüße",
        "signature": "Ihr {brand} Support-Team",
        "sources_label": "Quellen:",
        "see_also": "Das könnte Ihnen ebenfalls helfen:",
        "translation_note": "Diese Anleitung gibt es noch nicht auf Deutsch, hier ist sie in "
        "der Originalsprache:",
    },
    "pt": {
        "greeting": "Olá, {name}!",
        "greeting_anonymous": "Olá!",
        "acknowledgements": {
            "angry": "Sentimos muito pelo transtorno. Entendemos sua frustração e vamos "
            "resolver isso o quanto antes.",
            "anxious": "Não se preocupe: isso tem solução, e vamos ajudar você passo a passo.",
            "confused": "Obrigado pela pergunta! Vamos explicar de um jeito simples.",
            "sad": "Sentimos muito que você esteja passando por isso.",
            "positive": "Muito obrigado pelas palavras gentis, ficamos muito felizes!",
            "neutral": "Obrigado por entrar em contato.",
        },
        "intro_answer": "Veja o que você precisa saber:",
        "steps_intro": "Siga estes passos:",
        "no_match": "Para garantir uma resposta precisa, encaminhamos sua mensagem a um "
        "especialista da nossa equipe, que vai falar com você em breve.",
        "follow_up_intro": "Como os passos da nossa mensagem anterior (“{title}”) não "
        "resolveram, não vamos repeti-los aqui.",
        "next_steps": "Se algo não ficar claro, é só responder a este e-mail.",
        "vip_line": "Como cliente prioritário, seu atendimento está com a nossa equipe dedicada.",
        "new_user_line": "Boas-vindas! Que bom ter você com a gente.",
        "thanks_reply": "Por nada! Que bom que conseguimos ajudar. Se precisar "
        "de mais alguma coisa, é só responder a este e-mail.",
        "holding_acknowledgements": {"anxious": "Entendemos totalmente a sua preocupação."},
        "other_question": "Sobre a sua outra pergunta:",
        "other_question_follow_up": "Sua outra pergunta precisa de uma análise mais "
        "detalhada, então encaminhamos para um colega da nossa equipe, que vai falar com "
        "você em breve.",
        "closing": "Um abraço,",
        "signature": "Equipe de suporte {brand}",
        "sources_label": "Fontes:",
        "see_also": "Isto também pode ajudar:",
        "translation_note": "Este guia ainda não está disponível em português; segue no "
        "idioma original:",
    },
}

# "More formal" (the agent's regenerate instruction, or the brand voice's default register):
# sentences that replace the everyday ones. A locale whose everyday register is already
# polite (ja keigo, zh-Hant 您) moves to letter-style business phrasing.
FORMAL_DATA: dict[str, dict[str, Any]] = {
    "en": {
        "greeting": "Dear {name},",
        "greeting_anonymous": "Dear customer,",
        "acknowledgements": {
            "angry": "Please accept our sincere apologies for the inconvenience. We will "
            "resolve this as quickly as possible.",
            "anxious": "Please be assured that this can be resolved; we will guide you through it.",
            "confused": "Thank you for your question. Please find a clear explanation below.",
            "sad": "We are sorry that you have had to deal with this.",
            "positive": "Thank you very much for your kind words.",
            "neutral": "Thank you for contacting us.",
        },
        "intro_answer": "Please find the relevant information below:",
        "steps_intro": "Please follow the steps below:",
        "next_steps": "Should anything remain unclear, please reply to this e-mail and we "
        "will be glad to assist further.",
        "new_user_line": "Welcome to {brand}.",
        "holding_acknowledgements": {
            "anxious": "We understand that this is a worrying situation.",
        },
        # One voice per reply: the formal register speaks as "we" throughout.
        "no_match": "To ensure that you receive an accurate answer, we have passed your "
        "message to a specialist on our team, who will contact you shortly.",
        "follow_up_intro": "As the steps in our previous message (“{title}”) did not resolve "
        "this, we will not repeat them here.",
        "thanks_reply": "You are very welcome; we are glad to have been of help. Should "
        "anything else arise, please reply to this e-mail.",
        "other_question": "As regards your other question:",
        "other_question_follow_up": "Your other question requires further review; we have passed "
        "it to a colleague, who will contact you about it shortly.",
        "closing": "Kind regards,",
        "see_also": "You may also find the following helpful:",
    },
    "es": {
        "greeting": "Estimado/a {name}:",
        "greeting_anonymous": "Estimado/a cliente:",
        "acknowledgements": {
            "angry": "Lamentamos sinceramente las molestias ocasionadas. Trabajaremos para "
            "resolverlo a la brevedad.",
            "anxious": "Puede estar tranquilo/a: esto tiene solución y le guiaremos paso a paso.",
            "confused": "Gracias por su consulta. A continuación le explicamos con claridad.",
            "sad": "Lamentamos mucho la situación por la que está pasando.",
            "positive": "Le agradecemos sinceramente sus amables palabras.",
            "neutral": "Gracias por comunicarse con nosotros.",
        },
        "intro_answer": "A continuación, le compartimos la información:",
        "steps_intro": "Le pedimos seguir estos pasos:",
        "no_match": "Para brindarle una respuesta precisa, hemos remitido su mensaje a un "
        "especialista de nuestro equipo, quien se comunicará con usted a la brevedad.",
        "follow_up_intro": "Dado que los pasos de nuestro mensaje anterior (“{title}”) no "
        "resolvieron la situación, no los repetiremos aquí.",
        "next_steps": "Si tiene alguna duda, puede responder a este correo y con gusto le "
        "ayudaremos.",
        "vip_line": "Como cliente prioritario, su caso está siendo atendido por nuestro "
        "equipo de atención preferente.",
        "new_user_line": "Le damos la bienvenida a {brand}.",
        "holding_acknowledgements": {"anxious": "Comprendemos su preocupación."},
        "other_question": "En cuanto a su otra consulta:",
        "other_question_follow_up": "Su otra consulta requiere una revisión más detallada; "
        "la hemos remitido a un especialista de nuestro equipo, quien se comunicará con "
        "usted a la brevedad.",
        "closing": "Atentamente,",
        "see_also": "También puede resultarle útil:",
        "translation_note": "Por el momento, esta guía no está disponible en español; se la "
        "compartimos en su idioma original:",
    },
    "ja": {
        "greeting": "{name} 様\n\n平素より格別のご高配を賜り、厚く御礼申し上げます。",
        "greeting_anonymous": "お客様各位\n\n平素より格別のご高配を賜り、厚く御礼申し上げます。",
        "next_steps": "ご不明な点がございましたら、本メールにご返信くださいますよう"
        "お願い申し上げます。",
        "closing": "今後とも何卒よろしくお願い申し上げます。",
    },
    "zh-Hant": {
        "greeting": "敬愛的 {name} 您好：",
        "greeting_anonymous": "敬愛的客戶您好：",
        "acknowledgements": {"neutral": "感謝您撥冗來信。"},
        "next_steps": "如有任何疑問，敬請回覆本函，我們將竭誠為您服務。",
        "closing": "順頌 商祺",
    },
    "zh-Hans": {
        "greeting": "尊敬的{name}，您好：",
        "greeting_anonymous": "尊敬的客户，您好：",
        "acknowledgements": {"neutral": "感谢您的来信。"},
        "next_steps": "如有任何疑问，敬请回复本邮件，我们将竭诚为您服务。",
        "closing": "此致\n敬礼",
    },
    "fr": {
        # French business letters open without the name; "Madame Ana" is not said.
        "greeting": "Madame, Monsieur,",
        "greeting_anonymous": "Madame, Monsieur,",
        "next_steps": "Pour toute question complémentaire, nous vous invitons à répondre à "
        "ce message.",
        "closing": "Nous vous prions d'agréer nos salutations distinguées.",
    },
    "de": {
        "greeting": "Sehr geehrte/r {name},",
        "greeting_anonymous": "Sehr geehrte Damen und Herren,",
        "next_steps": "Sollten noch Fragen offen sein, antworten Sie bitte auf diese E-Mail.",
        "closing": "Mit freundlichen Grüßen",
    },
    "pt": {
        "greeting": "Prezado(a) {name},",
        "greeting_anonymous": "Prezado(a) cliente,",
        "acknowledgements": {"neutral": "Agradecemos o seu contato."},
        "next_steps": "Caso reste alguma dúvida, por gentileza responda a este e-mail.",
        "closing": "Atenciosamente,",
    },
}

for _locale, _formal in FORMAL_DATA.items():
    PROFILE_DATA[_locale]["formal"] = _formal
